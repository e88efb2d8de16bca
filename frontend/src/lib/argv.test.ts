import { describe, expect, it } from 'vitest'
import { splitCommand } from './argv'

describe('splitCommand', () => {
  it.each([
    ['npx -y @modelcontextprotocol/server-everything', ['npx', '-y', '@modelcontextprotocol/server-everything']],
    ['  uvx   mcp-server-git  ', ['uvx', 'mcp-server-git']],
    ['"/opt/My Tools/server" --root "a b"', ['/opt/My Tools/server', '--root', 'a b']],
    ["node '/x/it'\\''s here.mjs'", ['node', "/x/it's here.mjs"]],
    ['/opt/My\\ Tools/server', ['/opt/My Tools/server']],
    ['say "a \\"quoted\\" word" \'$HOME\'', ['say', 'a "quoted" word', '$HOME']],
    ['empty "" arg', ['empty', '', 'arg']],
    ['C:\\\\Tools\\\\srv.exe', ['C:\\Tools\\srv.exe']],
    ['', []],
  ])('%s', (line, want) => {
    expect(splitCommand(line)).toEqual(want)
  })

  it('says when a quote is not closed', () => {
    expect(() => splitCommand('node "/opt/My Tools/server')).toThrow('unclosed double quote')
    expect(() => splitCommand("node '/x")).toThrow('unclosed single quote')
  })
})
