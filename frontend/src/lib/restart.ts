import { app } from './app.svelte'
import { post, get, setConn } from './api'
import { resolveConnection } from './conn'

/** POST /api/restart, then waits until the gateway answers again and reconnects. */
export async function restartAndReconnect(): Promise<void> {
  await post('/api/restart')
  const deadline = Date.now() + 30_000
  await new Promise((r) => setTimeout(r, 700))
  for (;;) {
    try {
      if (app.conn.desktop) {
        // The port or token may have changed; the shell knows the new ones.
        app.conn = await resolveConnection()
        setConn(app.conn)
      }
      await get('/api/health')
      break
    } catch (e) {
      if (Date.now() > deadline) throw new Error('the gateway did not come back within 30 s: ' + (e as Error).message)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  app.connect()
}
