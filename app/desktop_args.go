package app

// desktopToServeArgs keeps the flags serve understands (--dir becomes DIR).
func desktopToServeArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--hidden", "-hidden":
		case "--dir", "-dir":
			if i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
		default:
			out = append(out, a)
		}
	}
	return out
}
