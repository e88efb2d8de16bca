package app

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The app and tray icons are drawn here rather than shipped as files, so
// the tray can show the gateway's state and tools/mkicons can write the
// platform icons under build/ from the same drawing.

var (
	iconBrand   = color.NRGBA{0x4f, 0x46, 0xe5, 0xff} // indigo
	iconWhite   = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	iconRunning = color.NRGBA{0x22, 0xc5, 0x5e, 0xff} // green
	iconStopped = color.NRGBA{0x9c, 0xa3, 0xaf, 0xff} // grey
	iconError   = color.NRGBA{0xef, 0x44, 0x44, 0xff} // red
)

// iconSupersample is the number of samples per pixel side for anti-aliasing.
const iconSupersample = 4

// AppIcon draws the application icon, size×size pixels: a rounded indigo
// square holding a white ring, the "O" of OpenAgent, with a dot inside.
func AppIcon(size int) *image.NRGBA {
	return drawIcon(size, func(x, y float64) color.NRGBA {
		// Coordinates are in [0,1).
		if !inRoundedSquare(x, y, 0.06, 0.22) {
			return color.NRGBA{}
		}
		d := math.Hypot(x-0.5, y-0.5)
		switch {
		case d >= 0.22 && d <= 0.31:
			return iconWhite
		case d <= 0.085:
			return iconWhite
		}
		return iconBrand
	})
}

// TrayIconImage draws the tray icon for a state: the app's ring, with a
// coloured status dot in the lower right corner.
func TrayIconImage(size int, st TrayIcon) *image.NRGBA {
	dot := iconStopped
	switch st {
	case IconRunning:
		dot = iconRunning
	case IconError:
		dot = iconError
	}
	return drawIcon(size, func(x, y float64) color.NRGBA {
		dd := math.Hypot(x-0.76, y-0.76)
		switch {
		case dd <= 0.2:
			return dot
		case dd <= 0.26:
			return color.NRGBA{} // a gap around the dot
		}
		d := math.Hypot(x-0.45, y-0.45)
		switch {
		case d <= 0.42 && d >= 0.3:
			return iconBrand
		case d <= 0.13:
			return iconBrand
		}
		return color.NRGBA{}
	})
}

// drawIcon renders shade, a function of the unit square, with supersampling.
func drawIcon(size int, shade func(x, y float64) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	n := float64(iconSupersample * iconSupersample)
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < iconSupersample; sy++ {
				for sx := 0; sx < iconSupersample; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/iconSupersample) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/iconSupersample) / float64(size)
					c := shade(x, y)
					ca := float64(c.A) / 255
					r += float64(c.R) * ca
					g += float64(c.G) * ca
					b += float64(c.B) * ca
					a += ca
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(math.Round(a / n * 255))})
		}
	}
	return img
}

// inRoundedSquare reports whether (x,y) lies in the square inset by margin
// with corners of radius r.
func inRoundedSquare(x, y, margin, r float64) bool {
	lo, hi := margin, 1-margin
	if x < lo || x > hi || y < lo || y > hi {
		return false
	}
	cx := math.Max(lo+r, math.Min(x, hi-r))
	cy := math.Max(lo+r, math.Min(y, hi-r))
	return math.Hypot(x-cx, y-cy) <= r
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding to memory cannot fail for an NRGBA image
	}
	return buf.Bytes()
}

// ICO wraps PNG images (each at most 256 px) in a Windows .ico file.
func ICO(images ...*image.NRGBA) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	_ = binary.Write(&buf, le, [3]uint16{0, 1, uint16(len(images))})
	pngs := make([][]byte, len(images))
	offset := 6 + 16*len(images)
	for i, img := range images {
		pngs[i] = PNG(img)
		w := img.Bounds().Dx()
		dim := uint8(w)
		if w >= 256 {
			dim = 0 // 0 means 256
		}
		_ = binary.Write(&buf, le, struct {
			W, H, Colors, Reserved uint8
			Planes, BPP            uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(pngs[i])), uint32(offset)})
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		buf.Write(p)
	}
	return buf.Bytes()
}
