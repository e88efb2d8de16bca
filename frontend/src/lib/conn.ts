// Where to connect: the Wails binding in the desktop window, otherwise the
// page's own origin plus a token from the pairing link or the login form.
export interface Conn { base_url: string; ws_url: string; token: string }

declare global {
  interface Window {
    go?: { app?: { Bridge?: { Connection?: () => Promise<Conn> } } }
    /** The Wails runtime, present in the desktop window. */
    runtime?: { EventsOn?: (name: string, cb: (data: any) => void) => () => void }
  }
}

const TOKEN_KEY = 'oa.token'

export async function resolveConnection(win: Window = window): Promise<Conn & { desktop: boolean }> {
  const bridge = win.go?.app?.Bridge?.Connection
  if (bridge) {
    const c = await bridge()
    return { ...c, base_url: c.base_url.replace(/\/$/, ''), desktop: true }
  }
  const url = new URL(win.location.href)
  const fromLink = url.searchParams.get('token')
  if (fromLink !== null) {
    win.localStorage.setItem(TOKEN_KEY, fromLink)
    url.searchParams.delete('token')
    win.history.replaceState(null, '', url.pathname + url.search + url.hash)
  }
  const base = url.origin
  const ws = (url.protocol === 'https:' ? 'wss://' : 'ws://') + url.host + '/ws'
  return { base_url: base, ws_url: ws, token: win.localStorage.getItem(TOKEN_KEY) ?? '', desktop: false }
}

export function saveToken(token: string, win: Window = window) {
  win.localStorage.setItem(TOKEN_KEY, token)
}
