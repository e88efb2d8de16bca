// Markdown → sanitised HTML. Agent output and notes are untrusted: whatever
// marked produces goes through DOMPurify before it reaches the page.
import { Marked } from 'marked'
import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import go from 'highlight.js/lib/languages/go'
import javascript from 'highlight.js/lib/languages/javascript'
import typescript from 'highlight.js/lib/languages/typescript'
import python from 'highlight.js/lib/languages/python'
import json from 'highlight.js/lib/languages/json'
import yaml from 'highlight.js/lib/languages/yaml'
import xml from 'highlight.js/lib/languages/xml'
import css from 'highlight.js/lib/languages/css'
import sql from 'highlight.js/lib/languages/sql'
import rust from 'highlight.js/lib/languages/rust'
import diff from 'highlight.js/lib/languages/diff'

for (const [n, l] of Object.entries({ bash, go, javascript, typescript, python, json, yaml, xml, css, sql, rust, diff })) hljs.registerLanguage(n, l)
hljs.registerAliases(['sh', 'shell', 'zsh'], { languageName: 'bash' })
hljs.registerAliases(['js'], { languageName: 'javascript' })
hljs.registerAliases(['ts'], { languageName: 'typescript' })
hljs.registerAliases(['py'], { languageName: 'python' })
hljs.registerAliases(['html'], { languageName: 'xml' })
hljs.registerAliases(['yml'], { languageName: 'yaml' })

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const md = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    code({ text, lang }) {
      const l = (lang ?? '').split(/\s/)[0].toLowerCase()
      let html: string
      if (l && hljs.getLanguage(l)) html = hljs.highlight(text, { language: l }).value
      else html = esc(text)
      return `<div class="code"><button type="button" class="copy" data-copy aria-label="Copy code">Copy</button><pre><code class="hljs${l ? ' language-' + esc(l) : ''}">${html}</code></pre></div>`
    },
  },
})

const wikiRE = /\[\[([^\]|]+)(?:\|([^\]]+))?\]\]/g

/** Renders markdown; with wikilinks, [[x|y]] becomes a link the vault page handles. */
export function render(src: string, opts: { wikilinks?: boolean } = {}): string {
  if (opts.wikilinks) {
    src = src.replace(wikiRE, (_, target: string, alias?: string) => {
      const t = target.trim()
      return `<a href="#" class="wikilink" data-wikilink="${esc(t)}">${esc((alias ?? t).trim())}</a>`
    })
  }
  const html = md.parse(src, { async: false }) as string
  return DOMPurify.sanitize(html, { ADD_ATTR: ['data-wikilink', 'data-copy', 'target'] })
}

/** Handles clicks on code copy buttons inside rendered markdown. */
export async function onCopyClick(e: MouseEvent) {
  const btn = (e.target as HTMLElement).closest('[data-copy]') as HTMLButtonElement | null
  if (!btn) return
  const code = btn.parentElement?.querySelector('code')?.textContent ?? ''
  try {
    await navigator.clipboard.writeText(code)
    btn.textContent = 'Copied'
  } catch {
    btn.textContent = 'Copy failed'
  }
  setTimeout(() => (btn.textContent = 'Copy'), 1500)
}
