package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/net/html"
)

const (
	// fetchTimeout bounds one fetch, redirects included.
	fetchTimeout = 20 * time.Second
	// fetchMaxBytes bounds the body read from the server.
	fetchMaxBytes = 2 << 20
	// fetchMaxText bounds the text returned (before the pool's own budget).
	fetchMaxText = 100 << 10
)

// Fetch is the fetch builtin: GET a URL and return readable text. It
// reaches public addresses only, unless allowPrivate (asked at each call,
// so a settings change applies at once; nil means no) says otherwise.
func Fetch(allowPrivate func() bool) Builtin {
	return Builtin{Name: "fetch", Enabled: true, Server: func() *sdk.Server { return fetchServer(allowPrivate) }}
}

type fetchIn struct {
	URL string `json:"url" jsonschema:"the http or https URL to get"`
	Raw bool   `json:"raw,omitempty" jsonschema:"return HTML as is instead of readable text"`
}

func fetchServer(allowPrivate func() bool) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "fetch"}, nil)
	private := func() bool { return allowPrivate != nil && allowPrivate() }
	client := &http.Client{Timeout: fetchTimeout, Transport: guardedTransport(private)}
	sdk.AddTool(s, &sdk.Tool{Name: "fetch", Description: "Get a web page or file by URL and return it as readable text (HTML is converted; at most 100 KiB)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in fetchIn) (*sdk.CallToolResult, any, error) {
			u, err := url.Parse(strings.TrimSpace(in.URL))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, nil, fmt.Errorf("url must be an absolute http or https URL, not %q", in.URL)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if err != nil {
				return nil, nil, err
			}
			req.Header.Set("User-Agent", "OpenAgent-Desktop/1 (+fetch tool)")
			req.Header.Set("Accept", "text/html, text/plain, application/json, */*;q=0.5")
			resp, err := client.Do(req)
			if err != nil {
				return nil, nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, fetchMaxBytes+1))
			if err != nil {
				return nil, nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
			}
			cut := len(body) > fetchMaxBytes
			if cut {
				body = body[:fetchMaxBytes]
			}
			if resp.StatusCode >= 400 {
				return nil, nil, fmt.Errorf("fetch %s: %s: %s", u.Redacted(), resp.Status, truncate(strings.TrimSpace(string(body)), 500))
			}
			ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			var text string
			switch {
			case ct == "text/html" || ct == "application/xhtml+xml":
				if in.Raw {
					text = string(body)
				} else {
					text = htmlText(string(body))
				}
			case strings.HasPrefix(ct, "text/") || strings.HasSuffix(ct, "json") || strings.HasSuffix(ct, "xml") || ct == "":
				text = string(body)
			default:
				return textResult(fmt.Sprintf("[%s is %s, %d bytes; not text]", u.Redacted(), ct, len(body))), nil, nil
			}
			if cut {
				text += fmt.Sprintf("\n\n[the response was larger than %d bytes and was cut]", fetchMaxBytes)
			}
			return textResult(truncate(text, fetchMaxText)), nil, nil
		})
	return s
}

// skipped elements carry no readable text.
var skipped = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "svg": true, "head": true, "iframe": true}

// blocks end a line.
var blocks = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "section": true, "article": true, "header": true, "footer": true, "pre": true, "blockquote": true, "table": true, "ul": true, "ol": true, "hr": true, "title": true}

// htmlText extracts readable text from an HTML document: the title, then
// the body text with one line per block, links as "text (href)".
func htmlText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var (
		b     strings.Builder
		skip  int
		title string
		inTtl bool
		href  string
	)
	line := func() {
		s := b.String()
		if len(s) > 0 && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				out := collapse(b.String())
				if title != "" {
					out = "# " + strings.TrimSpace(title) + "\n\n" + out
				}
				return out
			}
			return collapse(b.String())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tag == "title" {
				inTtl = true
			}
			if skipped[tag] && tag != "head" {
				skip++
			}
			if tag == "a" {
				href = ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
			}
			if blocks[tag] {
				line()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if tag == "title" {
				inTtl = false
			}
			if skipped[tag] && tag != "head" && skip > 0 {
				skip--
			}
			if tag == "a" && href != "" && !strings.HasPrefix(href, "#") && !strings.HasPrefix(href, "javascript:") {
				fmt.Fprintf(&b, " (%s)", href)
				href = ""
			}
			if blocks[tag] {
				line()
			}
		case html.TextToken:
			t := string(z.Text())
			if inTtl {
				title += t
				continue
			}
			if skip > 0 {
				continue
			}
			b.WriteString(t)
		}
	}
}

// collapse squeezes runs of spaces and blank lines.
func collapse(s string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
