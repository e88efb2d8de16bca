import type { NoteMeta } from './protocol'

/** Resolves a wikilink target like Obsidian: path first, then the shortest matching basename. */
export function resolveLink(target: string, notes: NoteMeta[]): string | null {
  let k = target.trim().toLowerCase().split('#')[0].split('^')[0].replace(/^\.?\//, '').replace(/\.md$/, '')
  if (!k) return null
  const byPath = notes.find((n) => n.path.toLowerCase().replace(/\.md$/, '') === k)
  if (byPath) return byPath.path
  const base = k.split('/').pop()!
  const hits = notes.filter((n) => n.path.toLowerCase().replace(/\.md$/, '').split('/').pop() === base)
  hits.sort((a, b) => a.path.length - b.path.length)
  return hits[0]?.path ?? null
}

export interface Folder { name: string; path: string; folders: Folder[]; notes: NoteMeta[] }

export function buildTree(notes: NoteMeta[]): Folder {
  const root: Folder = { name: '', path: '', folders: [], notes: [] }
  for (const n of notes) {
    const parts = n.path.split('/')
    let f = root
    for (const p of parts.slice(0, -1)) {
      let next = f.folders.find((x) => x.name === p)
      if (!next) {
        next = { name: p, path: f.path ? f.path + '/' + p : p, folders: [], notes: [] }
        f.folders.push(next)
      }
      f = next
    }
    f.notes.push(n)
  }
  const sort = (f: Folder) => {
    f.folders.sort((a, b) => a.name.localeCompare(b.name))
    f.notes.sort((a, b) => a.path.localeCompare(b.path))
    f.folders.forEach(sort)
  }
  sort(root)
  return root
}
