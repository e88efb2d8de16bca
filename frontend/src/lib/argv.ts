/**
 * Splits a command line into arguments the way a POSIX shell does for
 * plain words: whitespace separates, '…' keeps everything literally, "…"
 * keeps spaces and takes \" and \\ as escapes, and a backslash outside
 * quotes escapes the next character. So `"/opt/My Tools/server" --flag`
 * is two arguments. Nothing is expanded ($VAR, ~, globs). An unclosed
 * quote is an error that says so.
 */
export function splitCommand(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let inWord = false
  let quote: '' | "'" | '"' = ''
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quote === "'") {
      if (ch === "'") quote = ''
      else cur += ch
    } else if (quote === '"') {
      if (ch === '"') quote = ''
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i]
      else cur += ch
    } else if (ch === "'" || ch === '"') {
      quote = ch
      inWord = true
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i]
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += ch
      inWord = true
    }
  }
  if (quote) throw new Error(`the command has an unclosed ${quote === '"' ? 'double' : 'single'} quote`)
  if (inWord) out.push(cur)
  return out
}
