import { describe, expect, it } from 'vitest'
import { buildTree, resolveLink } from './vault'

const n = (path: string) => ({ path, title: path, tags: [], type: '', modified: 0, size: 0 })
const notes = [n('a/b/Note.md'), n('Note.md'), n('x/deep/other.md'), n('y/other.md')]

describe('resolveLink', () => {
  it('resolves by path, then by the shortest basename, case-insensitively', () => {
    expect(resolveLink('a/b/note', notes)).toBe('a/b/Note.md')
    expect(resolveLink('NOTE', notes)).toBe('Note.md')
    expect(resolveLink('other#Heading', notes)).toBe('y/other.md')
    expect(resolveLink('other^block', notes)).toBe('y/other.md')
    expect(resolveLink('missing', notes)).toBeNull()
  })
})

describe('buildTree', () => {
  it('nests folders and sorts them', () => {
    const t = buildTree(notes)
    expect(t.notes.map((x) => x.path)).toEqual(['Note.md'])
    expect(t.folders.map((f) => f.name)).toEqual(['a', 'x', 'y'])
    expect(t.folders[0].folders[0].notes[0].path).toBe('a/b/Note.md')
  })
})
