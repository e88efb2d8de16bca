// End-to-end tests of the web UI: a real `openagent serve` (with this UI
// embedded) on a temporary agent directory, a fake OpenAI-compatible model
// server, and Debian's Chromium driven by playwright-core.
//
//   node e2e/run.mjs            all tests, screenshots to docs/screenshots/
//   node e2e/run.mjs --memory   also 500 chat turns, then the JS heap
//   OPENAGENT_BIN=…             use this binary instead of building one
//
// The last line is "N passed, M failed"; the exit code is 1 when M > 0.
import { chromium } from 'playwright-core'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, rmSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { startFakeModel } from './fake-model.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '../..')
const shots = join(repo, 'docs/screenshots')
const memory = process.argv.includes('--memory')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7)
const graphN = Number(process.argv.find((a) => a.startsWith('--graph='))?.slice(8) ?? 0)
const TOKEN = 'e2e-token-' + Math.random().toString(36).slice(2)
const T = 20_000

const tmp = mkdtempSync(join(tmpdir(), 'oa-e2e-'))
const agentDir = join(tmp, 'agent')
mkdirSync(agentDir)
mkdirSync(shots, { recursive: true })

let bin = process.env.OPENAGENT_BIN
if (!bin) {
  bin = join(tmp, 'openagent')
  console.log('building openagent with the UI embedded…')
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit', env: { ...process.env, CGO_ENABLED: '0' } })
}

const modelLog = []
const fake = await startFakeModel({ log: (l) => modelLog.push(l) })
const port = await freePort()
writeFileSync(join(agentDir, 'openagent.yaml'), `name: E2E Agent
system_prompt: You are a test agent.
model: {provider: fake, model_id: fake-model, monthly_budget: 5}
providers:
  fake:
    type: openai
    api_key: sk-fake-e2e-9876
    base_url: http://127.0.0.1:${fake.port}/v1
    models: [{id: fake-model, input_cost_per_million: 3, output_cost_per_million: 15}]
uploads:
  transcription: {provider: fake, model: whisper-1}
channels:
  websocket: {port: ${port}, token: ${TOKEN}}
`)

if (graphN) {
  // A big vault for the graph measurement: 20 folders, 3 links per note,
  // every tenth note with a link to a note that does not exist.
  const v = join(agentDir, 'memories')
  for (let f = 0; f < 20; f++) mkdirSync(join(v, 'f' + f), { recursive: true })
  for (let i = 0; i < graphN; i++) {
    const links = [1, 2, 3].map(() => `[[n${Math.floor(Math.random() * graphN)}]]`).join(' ')
    const ghost = i % 10 === 0 ? ` [[missing${i}]]` : ''
    writeFileSync(join(v, 'f' + (i % 20), `n${i}.md`), `---\ntags: [t${i % 7}]\n---\n# Note ${i}\n\n${links}${ghost}\n`)
  }
}

const srvLog = []
const srv = spawn(bin, ['serve', agentDir], { stdio: ['ignore', 'pipe', 'pipe'] })
srv.stdout.on('data', (d) => srvLog.push(String(d)))
srv.stderr.on('data', (d) => srvLog.push(String(d)))
const base = await waitForGateway()
console.log(`gateway on ${base}, fake model on ${fake.port}`)

const ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
})

const results = []
async function test(name, fn) {
  if (only && !name.includes(only)) return
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  const t0 = Date.now()
  try {
    await fn(page)
    if (errors.length) throw new Error('uncaught page errors: ' + errors.join('; '))
    results.push({ name, ok: true })
    console.log(`PASS ${name} (${Date.now() - t0} ms)`)
  } catch (e) {
    results.push({ name, ok: false })
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n  ')}`)
    await page.screenshot({ path: join(tmp, `fail-${name.replace(/\W+/g, '-')}.png`) }).catch(() => {})
  } finally {
    await page.close()
  }
}
const shot = (page, name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: false })
const open = async (page, hash = '/chat') => {
  await page.goto(`${base}/?token=${TOKEN}#${hash}`)
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
}
async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter')
}
// rest calls the gateway's REST API as another client would; non-2xx throws.
async function rest(path, { method = 'GET', json } = {}) {
  const headers = { Authorization: 'Bearer ' + TOKEN }
  if (json !== undefined) headers['Content-Type'] = 'application/json'
  const r = await fetch(base + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) })
  const text = await r.text()
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}
// until polls fn (every 100 ms) until it returns something truthy, and returns that.
async function until(what, fn, timeout = T) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}` + (last ? ': ' + last.message : ''))
    await new Promise((r) => setTimeout(r, 100))
  }
}

await test('pairing link logs in and leaves no token in the URL', async (page) => {
  await page.goto(`${base}/?token=${TOKEN}#/chat`)
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
  if (page.url().includes('token=')) throw new Error('token still in URL: ' + page.url())
  const brand = await page.locator('nav .brand').textContent()
  if (!brand.includes('E2E Agent')) throw new Error('agent name from auth_ok not shown: ' + brand)
})

await test('a wrong token gets the login form, the right one connects', async (page) => {
  // localhost is another origin than 127.0.0.1, so its storage has no token yet.
  await page.goto(`${base.replace('127.0.0.1', 'localhost')}/?token=wrong#/chat`)
  await page.getByLabel('Access token').waitFor({ timeout: T })
  await page.getByLabel('Access token').fill(TOKEN)
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
})

await test('desktop window: connection from the Wails binding, and its connection events', async (page) => {
  // What the desktop shell injects: window.go.app.Bridge.Connection() and the Wails runtime.
  await page.addInitScript(([b, tok]) => {
    const ws = b.replace('http', 'ws') + '/ws'
    window.go = { app: { Bridge: { Connection: async () => ({ base_url: b + '/', ws_url: ws, token: tok }) } } }
    window.__events = {}
    window.runtime = { EventsOn: (n, cb) => { window.__events[n] = cb; return () => {} } }
  }, [base, TOKEN])
  // No stored token: only the binding can supply it.
  await page.goto(`${base}/#/settings/about`)
  await page.evaluate(() => localStorage.removeItem('oa.token'))
  await page.reload()
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
  await page.getByTestId('version').waitFor({ timeout: T }) // REST with the binding's token
  await page.evaluate(() => window.__events.connection(null))
  await page.getByRole('status').filter({ hasText: 'stopped' }).waitFor({ timeout: T })
  await page.evaluate(([b, tok]) => window.__events.connection({ base_url: b, ws_url: b.replace('http', 'ws') + '/ws', token: tok }), [base, TOKEN])
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
})

await test('chat turn with a tool chip and the answering model', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  await send(page, 'Please use a tool to look around.')
  const chip = page.locator('details.chip').first()
  await chip.waitFor({ timeout: T })
  await page.locator('article.msg.agent').filter({ hasText: 'all done' }).waitFor({ timeout: T })
  const status = await page.locator('article.msg.agent details.chip').first().getAttribute('data-status')
  if (status !== 'done') throw new Error(`tool chip is ${status} after the reply, want done`)
  await page.locator('article.msg.agent details.chip summary').first().click()
  const chipText = await page.locator('article.msg.agent details.chip').first().textContent()
  if (!/Parameters|Result|Error/.test(chipText)) throw new Error('chip shows no parameters or result: ' + chipText)
  const model = await page.locator('article.msg.agent .model').first().textContent()
  if (!model.includes('fake-model')) throw new Error('model not shown: ' + model)
  await shot(page, 'chat')
})

await test('another browser shows the stored conversations, tool chips included, and deleting one deletes it there', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  const word = 'okapi' + Date.now()
  await send(page, `Please use a tool to find the ${word}.`)
  await page.locator('article.msg.agent').filter({ hasText: 'all done' }).waitFor({ timeout: T })
  // localhost is another origin than 127.0.0.1: a browser with none of these chats stored.
  const other = await ctx.newPage()
  try {
    await other.goto(`${base.replace('127.0.0.1', 'localhost')}/?token=${TOKEN}#/chat`)
    await other.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
    const list = other.getByRole('complementary', { name: 'Conversations' })
    const pick = list.getByRole('button', { name: new RegExp(`find the ${word}`) })
    await pick.waitFor({ timeout: T })
    await pick.click()
    await other.locator('article.msg.user').filter({ hasText: `find the ${word}` }).waitFor({ timeout: T })
    const reply = other.locator('article.msg.agent').filter({ hasText: 'all done' })
    await reply.waitFor({ timeout: T })
    if ((await reply.locator('details.chip').count()) === 0) throw new Error('the stored turn came back without its tool chip')
    if (!(await reply.locator('.model').textContent()).includes('fake-model')) throw new Error('the stored answer lost its model')
    await list.getByRole('button', { name: new RegExp(`Delete conversation .*${word}`) }).click()
    await pick.waitFor({ state: 'detached', timeout: T })
  } finally {
    await other.close()
  }
  const left = await (await fetch(`${base}/api/sessions`, { headers: { Authorization: 'Bearer ' + TOKEN } })).json()
  if (left.sessions.some((x) => x.title.includes(word))) throw new Error('the deleted conversation is still stored on the gateway')
})

await test('markdown is sanitised and code has a copy button', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  await send(page, 'hello <img src=x onerror="window.__pwned=1"> ```js\nconst a = 1\n```')
  const agent = page.locator('article.msg.agent').last()
  await agent.waitFor({ timeout: T })
  if (await page.evaluate(() => window.__pwned)) throw new Error('onerror ran: markdown not sanitised')
  if ((await agent.locator('img[onerror]').count()) > 0) throw new Error('onerror attribute survived')
})

await test('Stop mid-turn', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  await send(page, 'Tell me a slow story')
  const stop = page.getByRole('button', { name: 'Stop' })
  await stop.waitFor({ timeout: T })
  await page.waitForTimeout(1500)
  await stop.click()
  await page.locator('article.msg.error').filter({ hasText: 'Stopped.' }).waitFor({ timeout: T })
  await stop.waitFor({ state: 'detached', timeout: T })
  await page.locator('article.msg.system').filter({ hasText: /Stopped current operation|Nothing running/ }).waitFor({ timeout: T })
  await shot(page, 'chat-stopped')
})

await test('slash command completion', async (page) => {
  await open(page)
  await page.getByLabel('Message', { exact: true }).fill('/he')
  await page.getByRole('listbox', { name: 'Commands' }).getByText('/help').waitFor({ timeout: T })
  await page.getByLabel('Message', { exact: true }).press('Tab')
  const v = await page.getByLabel('Message', { exact: true }).inputValue()
  if (v !== '/help') throw new Error('completion gave ' + v)
  await page.getByLabel('Message', { exact: true }).press('Enter')
  await page.locator('article.msg.system').filter({ hasText: 'Available commands' }).waitFor({ timeout: T })
})

await test('a note shows in search and in the graph', async (page) => {
  await open(page, '/vault')
  await page.getByLabel('New note path').fill('e2e/Zebra Facts')
  await page.getByRole('button', { name: 'New', exact: true }).click()
  const editor = page.getByLabel('Note text')
  await editor.waitFor({ timeout: T })
  await editor.fill('# Zebra Facts\n\nStripes are unique. See [[Savanna]] and [[Other Note]].\n\n#e2etag\n')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.locator('article.note').filter({ hasText: 'Stripes are unique' }).waitFor({ timeout: T })
  await shot(page, 'vault-note')
  await page.getByLabel('Search notes').fill('stripes')
  const hit = page.getByRole('list', { name: 'Search results' }).getByRole('button', { name: /Zebra Facts/ })
  await hit.waitFor({ timeout: T })
  const snip = await page.locator('.snip mark').first().textContent({ timeout: T })
  if (!/stripes/i.test(snip)) throw new Error('snippet has no highlighted match: ' + snip)
  await shot(page, 'vault-search')
  // An outside write (REST here; Obsidian or an agent tool alike) shows up live via resource_event.
  const put = await fetch(`${base}/api/vault/notes/e2e/Outside%20Edit.md`, {
    method: 'PUT', headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: '# Outside Edit\n\nLinks to [[Zebra Facts]].\n' }),
  })
  if (!put.ok) throw new Error('PUT note: ' + put.status + ' ' + (await put.text()))
  await page.getByLabel('Search notes').fill('')
  await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: 'Outside Edit' }).waitFor({ timeout: T })
  await page.getByRole('link', { name: 'Graph' }).click()
  await page.locator('li[data-node="e2e/Zebra Facts.md"]').waitFor({ state: 'attached', timeout: T })
  const ghosts = await page.locator('li[data-unresolved="true"]').count()
  if (ghosts < 2) throw new Error(`expected the unresolved links as ghosts, got ${ghosts}`)
  const err = await page.locator('.graph [role=alert]').count()
  if (err) throw new Error('graph error: ' + (await page.locator('.graph [role=alert]').textContent()))
  if ((await page.locator('.graph .canvas canvas').count()) === 0) throw new Error('no graph canvas')
  await page.waitForTimeout(500)
  await shot(page, 'vault-graph')
})

await test('while the vault is first indexed, the list and graph show progress and load by themselves', async (page) => {
  // The gateway's own 503 (gateway/vault.go indexedVault) is answered once per
  // route here, as a big vault would right after start; then the real gateway.
  const busy = (what) => async (route) => {
    if (route.request().method() !== 'GET' || busy[what]) return route.continue()
    busy[what] = Date.now()
    await route.fulfill({
      status: 503, headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
      body: JSON.stringify({ error: 'vault is still indexing (4000 of 10000 notes read); try again shortly' }),
    })
  }
  const put = await fetch(`${base}/api/vault/notes/e2e/Indexing%20Check.md`, {
    method: 'PUT', headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: '# Indexing Check\n\nSee [[Nowhere Yet]].\n' }),
  })
  if (!put.ok) throw new Error('PUT note: ' + put.status + ' ' + (await put.text()))
  await page.route(/\/api\/vault\/notes(\?.*)?$/, busy('list'))
  await page.route(/\/api\/vault\/graph$/, busy('graph'))
  await open(page, '/vault')
  await page.getByRole('alert').filter({ hasText: '4000 of 10000 notes read' }).waitFor({ timeout: T })
  await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: 'Indexing Check' }).waitFor({ timeout: T })
  if (Date.now() - busy.list < 900) throw new Error('the list was asked again before Retry-After')
  if (await page.getByRole('alert').filter({ hasText: 'still indexing' }).count()) throw new Error('the indexing message stayed after the list loaded')
  await page.getByRole('link', { name: 'Graph' }).click()
  await page.locator('.graph [role=alert]').filter({ hasText: '4000 of 10000 notes read' }).waitFor({ timeout: T })
  await page.locator('li[data-node="e2e/Indexing Check.md"]').waitFor({ state: 'attached', timeout: T })
  if (await page.locator('.graph [role=alert]').count()) throw new Error('graph error stayed: ' + (await page.locator('.graph [role=alert]').textContent()))
})

await test('upload: an image is sent and shown inline through /api/files', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  // A 2x2 red PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')
  await page.getByLabel('Choose files').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png })
  await page.getByText('dot.png').waitFor({ timeout: T })
  await send(page, 'what is in this picture?')
  const img = page.locator('article.msg.user img[alt="dot.png"]')
  await img.waitFor({ timeout: T })
  await page.waitForFunction((el) => el.complete && el.naturalWidth === 2, await img.elementHandle(), { timeout: T })
  const reply = page.locator('article.msg.agent').filter({ hasText: 'server path' })
  await reply.waitFor({ timeout: T }) // the fake model echoes the text: the upload was named inline
  // ...and the picture itself went to the model as an image part.
  const said = await reply.textContent()
  if (!said.includes('Saw 1 image(s): image/png')) throw new Error('the model was not sent the image: ' + said.slice(0, 200))
})

await test('voice: record, upload, transcription sent as the message', async (page) => {
  await open(page)
  await page.getByRole('button', { name: '+ New chat' }).click()
  await page.getByRole('button', { name: 'Record voice' }).click()
  await page.getByRole('button', { name: 'Stop recording' }).waitFor({ timeout: T })
  await page.waitForTimeout(1200) // Chromium's fake microphone plays a tone
  await page.getByRole('button', { name: 'Stop recording' }).click()
  await page.locator('article.msg.user').filter({ hasText: 'hello from my voice' }).waitFor({ timeout: T })
  await page.locator('article.msg.agent').filter({ hasText: 'Echo:' }).waitFor({ timeout: T })
  const err = await page.locator('.composer .err').count()
  if (err) throw new Error(await page.locator('.composer .err').textContent())
})

await test('usage charts after turns', async (page) => {
  await open(page, '/usage')
  await page.locator('canvas[data-testid=cost-chart]').waitFor({ timeout: T })
  await page.locator('canvas[data-testid=token-chart]').waitFor({ timeout: T })
  await page.locator('table.models td').filter({ hasText: 'fake-model' }).first().waitFor({ timeout: T })
  const spend = await page.getByTestId('spend').textContent()
  if (spend === '$0.0000') throw new Error('no spend recorded after turns')
  const src = await page.locator('table.models tbody tr').first().locator('td').last().textContent()
  if (!src || src === '–') throw new Error('no price source shown')
  await page.waitForTimeout(300)
  await shot(page, 'usage')
})

await test('adding a provider shows its key masked, Test shows reply and TTFT', async (page) => {
  await open(page, '/settings/models')
  await page.getByRole('button', { name: 'Add provider' }).click()
  await page.getByLabel('Name').fill('second')
  await page.getByLabel('Base URL').fill(`http://127.0.0.1:${fake.port}/v1`)
  await page.getByLabel('API key').fill('sk-very-secret-key-4321')
  await page.getByLabel('Model ids (comma separated)').fill('fake-model')
  await page.getByRole('button', { name: 'Save' }).click()
  const card = page.locator('section[data-provider=second]')
  await card.waitFor({ timeout: T })
  const key = await card.getByTestId('key-display').textContent()
  if (!key.endsWith('4321') || key.includes('secret')) throw new Error('key not masked: ' + key)
  if ((await page.content()).includes('sk-very-secret-key')) throw new Error('the full key is in the page')
  await card.getByRole('button', { name: 'Test second:fake-model' }).click()
  await card.getByTestId('test-reply').waitFor({ timeout: T })
  await shot(page, 'settings-models')
})

await test('settings pages show the gateway state', async (page) => {
  await open(page, '/settings/mcp')
  await page.locator('tr[data-mcp]').first().waitFor({ timeout: T })
  await shot(page, 'settings-mcp')
  await open(page, '/settings/tasks')
  await page.getByLabel('Task name').waitFor({ timeout: T })
  await page.waitForTimeout(300)
  await shot(page, 'settings-tasks')
  await open(page, '/settings/general')
  await page.getByLabel('Agent name').waitFor({ timeout: T })
  if ((await page.getByLabel('Agent name').inputValue()) !== 'E2E Agent') throw new Error('agent name not loaded')
  await shot(page, 'settings-general')
  await open(page, '/settings/logs')
  await page.locator('table.logs code').first().waitFor({ timeout: T })
  await shot(page, 'settings-logs')
  await open(page, '/settings/about')
  await page.getByTestId('version').waitFor({ timeout: T })
  await shot(page, 'settings-about')
  await open(page, '/pairing')
  await page.getByLabel('Allow other devices').waitFor({ timeout: T })
  await shot(page, 'pairing')
})

await test('settings MCP: add a command server, it connects with its tools, disable, enable, delete', async (page) => {
  const name = 'e2e-tiny-' + Date.now().toString(36)
  const stored = async () => (await rest('/api/mcps')).mcps.find((m) => m.name === name)
  page.on('dialog', (d) => d.accept()) // the Delete confirmation
  try {
    await open(page, '/settings/mcp')
    const form = page.getByRole('form', { name: 'Add MCP server' })
    await form.getByLabel('Name').fill(name)
    await form.getByLabel('Kind').selectOption('command')
    // From a folder with a space in its name: the quotes keep the path one argument.
    const script = join(tmp, 'my tools', 'tiny-mcp.mjs')
    mkdirSync(dirname(script), { recursive: true })
    copyFileSync(join(here, 'tiny-mcp.mjs'), script)
    await form.getByLabel('Command').fill(`"${process.execPath}" "${script}"`)
    await form.getByRole('button', { name: 'Add' }).click()
    const row = page.locator(`tr[data-mcp="${name}"]`)
    await row.locator('.st.connected').waitFor({ timeout: T })
    await row.getByRole('cell', { name: '2', exact: true }).waitFor({ timeout: T }) // tiny-mcp offers echo and now
    if (!(await row.textContent()).includes('tiny-mcp.mjs')) throw new Error('the command is not shown: ' + (await row.textContent()))
    let m = await until('the server connected in /api/mcps', async () => { const r = await stored(); return r?.status === 'connected' && r })
    if (m.kind !== 'custom' || !m.enabled || m.tools !== 2) throw new Error('stored row: ' + JSON.stringify(m))
    if (JSON.stringify(m.command) !== JSON.stringify([process.execPath, script])) throw new Error('stored command: ' + JSON.stringify(m.command))
    if ((await form.getByLabel('Name').inputValue()) !== '') throw new Error('the form was not cleared after Add')

    await row.getByRole('button', { name: `Disable ${name}` }).click()
    await row.getByRole('button', { name: `Enable ${name}` }).waitFor({ timeout: T })
    await row.locator('.st.disabled').waitFor({ timeout: T })
    m = await stored()
    if (m.enabled || m.status !== 'disabled') throw new Error('after Disable: ' + JSON.stringify({ enabled: m.enabled, status: m.status }))

    await row.getByRole('button', { name: `Enable ${name}` }).click()
    await row.getByRole('button', { name: `Disable ${name}` }).waitFor({ timeout: T })
    await row.locator('.st.connected').waitFor({ timeout: T })
    m = await stored()
    if (!m.enabled || m.status !== 'connected' || m.tools !== 2) throw new Error('after Enable: ' + JSON.stringify({ enabled: m.enabled, status: m.status, tools: m.tools }))

    await row.getByRole('button', { name: `Delete ${name}` }).click()
    await row.waitFor({ state: 'detached', timeout: T })
    if (await stored()) throw new Error('still in /api/mcps after Delete')
    if (await page.getByRole('alert').count()) throw new Error('error shown: ' + (await page.getByRole('alert').textContent()))
  } finally {
    await rest(`/api/mcps/${encodeURIComponent(name)}`, { method: 'DELETE' }).catch(() => {})
  }
})

await test('settings tasks: a pause the gateway refuses is shown, and the box flips back', async (page) => {
  const task = await rest('/api/scheduled-tasks', { method: 'POST', json: { name: 'e2e-refused-' + Date.now().toString(36), cron_expression: '0 9 * * *', prompt: 'noop' } })
  try {
    await page.route(/\/api\/scheduled-tasks\/[^/]+$/, (route) => route.request().method() === 'PATCH'
      ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'database is locked' }) })
      : route.continue())
    await open(page, '/settings/tasks')
    const box = page.getByLabel(`Enabled ${task.name}`)
    await box.waitFor({ timeout: T })
    await box.click()
    await page.getByRole('alert').filter({ hasText: 'database is locked' }).waitFor({ timeout: T })
    await until('the box to show the task enabled again', () => box.isChecked())
    if (!(await rest('/api/scheduled-tasks/' + task.id)).enabled) throw new Error('the task was paused after all')
  } finally {
    await rest('/api/scheduled-tasks/' + task.id, { method: 'DELETE' }).catch(() => {})
  }
})

await test('settings tasks: add a scheduled task, pause and resume it, delete it', async (page) => {
  const name = 'e2e task ' + Date.now().toString(36)
  const stored = async () => (await rest('/api/scheduled-tasks')).tasks.find((t) => t.name === name)
  page.on('dialog', (d) => d.accept()) // the Delete confirmation
  try {
    await open(page, '/settings/tasks')
    const form = page.getByRole('form', { name: 'Add scheduled task' })
    await form.getByLabel('Task name').fill(name)
    await form.getByLabel('Schedule (cron)').fill('30 7 * * 1-5')
    await form.getByLabel('Prompt').fill('Summarise the e2e inbox.')
    await form.getByRole('button', { name: 'Add task' }).click()
    const row = page.getByRole('row').filter({ has: page.getByText(name, { exact: true }) })
    await row.waitFor({ timeout: T })
    await row.getByText('30 7 * * 1-5').waitFor({ timeout: T })
    await row.getByText('Summarise the e2e inbox.').waitFor({ timeout: T })
    const box = row.getByRole('checkbox', { name: `Enabled ${name}` })
    if (!(await box.isChecked())) throw new Error('a new task is shown paused')
    let t = await until('the task in /api/scheduled-tasks', stored)
    if (t.cron_expression !== '30 7 * * 1-5' || t.prompt !== 'Summarise the e2e inbox.' || !t.enabled || !t.next_run)
      throw new Error('stored task: ' + JSON.stringify(t))
    if ((await form.getByLabel('Task name').inputValue()) !== '') throw new Error('the form was not cleared after Add task')

    await box.uncheck()
    t = await until('the task paused', async () => { const x = await stored(); return x && !x.enabled && x })
    await open(page, '/settings/tasks') // a fresh load shows what the gateway has
    await row.waitFor({ timeout: T })
    if (await box.isChecked()) throw new Error('the paused task is shown enabled after a reload')
    await box.check()
    await until('the task resumed', async () => (await stored())?.enabled)

    await row.getByRole('button', { name: `Delete ${name}` }).click()
    await row.waitFor({ state: 'detached', timeout: T })
    if (await stored()) throw new Error('still in /api/scheduled-tasks after Delete')
    if (await page.getByRole('alert').count()) throw new Error('error shown: ' + (await page.getByRole('alert').textContent()))
  } finally {
    const left = await stored().catch(() => null)
    if (left) await rest(`/api/scheduled-tasks/${encodeURIComponent(left.id)}`, { method: 'DELETE' }).catch(() => {})
  }
})

await test('settings general: a changed agent name and system prompt are saved and still there after a reload', async (page) => {
  const before = await rest('/api/config')
  const name = 'E2E Renamed ' + Date.now().toString(36)
  const prompt = 'You are a renamed test agent.\nSecond line.'
  try {
    await open(page, '/settings/general')
    const form = page.getByRole('form', { name: 'General settings' })
    await form.getByLabel('Agent name').fill(name)
    await form.getByLabel('System prompt').fill(prompt)
    await form.getByRole('button', { name: 'Save' }).click()
    await form.getByRole('status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T })
    if (await page.getByRole('alert').count()) throw new Error('error shown: ' + (await page.getByRole('alert').textContent()))
    const cfg = await rest('/api/config')
    if (cfg.name !== name || cfg.system_prompt !== prompt) throw new Error('/api/config after Save: ' + JSON.stringify({ name: cfg.name, system_prompt: cfg.system_prompt }))
    if ((await rest('/api/config/name')) !== name) throw new Error('/api/config/name disagrees')
    // The header follows at once (the config resource_event), no reload needed.
    await page.locator('nav .brand').filter({ hasText: name }).waitFor({ timeout: T })
    await page.reload()
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
    await form.getByLabel('Agent name').waitFor({ timeout: T })
    const shown = await form.getByLabel('Agent name').inputValue()
    if (shown !== name) throw new Error('after a reload the name is ' + JSON.stringify(shown))
    const shownPrompt = await form.getByLabel('System prompt').inputValue()
    if (shownPrompt !== prompt) throw new Error('after a reload the prompt is ' + JSON.stringify(shownPrompt))
    const brand = await page.locator('nav .brand').textContent()
    if (!brand.includes(name)) throw new Error('the new name is not in the header after a reload: ' + brand)
    // Put the original values back through the page, as a user would.
    await form.getByLabel('Agent name').fill(before.name)
    await form.getByLabel('System prompt').fill(before.system_prompt)
    await form.getByRole('button', { name: 'Save' }).click()
    await form.getByRole('status').filter({ hasText: 'Saved.' }).waitFor({ timeout: T })
    const back = await rest('/api/config')
    if (back.name !== before.name || back.system_prompt !== before.system_prompt) throw new Error('original values not restored: ' + JSON.stringify({ name: back.name, system_prompt: back.system_prompt }))
  } finally {
    const now = await rest('/api/config').catch(() => null)
    if (now && now.name !== before.name) await rest('/api/config/name', { method: 'PATCH', json: before.name }).catch(() => {})
    if (now && now.system_prompt !== before.system_prompt) await rest('/api/config/system_prompt', { method: 'PATCH', json: before.system_prompt }).catch(() => {})
  }
})

await test('phone-sized viewport', async () => {
  const page = await ctx.newPage()
  try {
    await page.setViewportSize({ width: 390, height: 844 })
    await open(page)
    await send(page, 'hello from a phone')
    await page.locator('article.msg.agent').filter({ hasText: 'hello from a phone' }).waitFor({ timeout: T })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    if (overflow > 0) throw new Error(`page is ${overflow}px wider than the phone`)
    await page.getByRole('button', { name: 'Show conversations' }).click()
    await page.getByRole('button', { name: '+ New chat' }).waitFor({ timeout: T })
    await page.getByRole('button', { name: 'Show conversations' }).click()
    await shot(page, 'phone-chat')
    await open(page, '/usage')
    await page.locator('canvas[data-testid=cost-chart]').waitFor({ timeout: T })
    await shot(page, 'phone-usage')
  } finally {
    await page.close()
  }
})

await test('dark theme', async (page) => {
  await open(page)
  await page.getByRole('button', { name: /Switch to dark theme|Switch to light theme/ }).click()
  const theme = await page.evaluate(() => document.documentElement.dataset.theme)
  if (theme !== 'dark') await page.getByRole('button', { name: /Switch to dark theme/ }).click()
  await shot(page, 'chat-dark')
  await page.getByRole('button', { name: /Switch to light theme/ }).click()
})

await test('allow other devices: restart on 0.0.0.0, pairing shows the link and QR code', async (page) => {
  await open(page, '/pairing')
  const box = page.getByLabel('Allow other devices')
  await box.waitFor({ timeout: T })
  if (await box.isChecked()) throw new Error('LAN already on at start')
  await box.check()
  await page.locator('img.qr').waitFor({ timeout: 40_000 })
  const url = await page.locator('a.url').first().getAttribute('href')
  if (!url.includes('?token=' + TOKEN)) throw new Error('pairing link without the token: ' + url)
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T })
  const info = await (await fetch(`${base}/api/pairing`, { headers: { Authorization: 'Bearer ' + TOKEN } })).json()
  if (!info.lan || info.host !== '0.0.0.0') throw new Error('gateway not on 0.0.0.0 after the toggle: ' + JSON.stringify({ lan: info.lan, host: info.host }))
  await shot(page, 'pairing-lan')
})

if (graphN) {
  await test(`graph of ${graphN} notes`, async (page) => {
    await open(page, '/vault')
    const t0 = Date.now()
    await page.getByRole('link', { name: 'Graph' }).click()
    await page.locator('.graph .bar').getByText(/\d+ nodes/).waitFor({ timeout: 120_000 })
    await page.locator('.graph .canvas canvas').first().waitFor({ timeout: T })
    const shown = Date.now() - t0
    const label = await page.locator('.graph .bar').getByText(/\d+ nodes/).textContent()
    // Frames drawn while zooming and panning for 3 s (CPU WebGL here: --disable-gpu).
    const fps = await page.evaluate(async () => {
      const c = document.querySelector('.graph .canvas')
      const r = c.getBoundingClientRect()
      let frames = 0, run = true
      const tick = () => { frames++; if (run) requestAnimationFrame(tick) }
      requestAnimationFrame(tick)
      const t = performance.now()
      while (performance.now() - t < 3000) {
        c.dispatchEvent(new WheelEvent('wheel', { deltaY: (Math.floor((performance.now() - t) / 500) % 2 ? 60 : -60), clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, bubbles: true }))
        await new Promise((ok) => setTimeout(ok, 50))
      }
      run = false
      return frames / 3
    })
    const api = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => /api\/vault\/(graph|notes)/.test(e.name)).map((e) => `${new URL(e.name).pathname} ${e.duration.toFixed(0)} ms`).join(', '))
    console.log('GRAPH: REST ' + api)
    console.log('GRAPH: marks ' + await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name}@${m.startTime.toFixed(0)}`).join(' ')) + ` (click at ${await page.evaluate((t) => (performance.now() - (Date.now() - t)).toFixed(0), t0)})`)
    await shot(page, 'vault-graph-big')
    console.log(`GRAPH: ${label}: shown in ${shown} ms, ${fps.toFixed(0)} frames/s while zooming`)
  })
}

if (memory) {
  await test('heap after 500 chat turns', async (page) => {
    await open(page)
    await page.getByRole('button', { name: '+ New chat' }).click()
    const cdp = await page.context().newCDPSession(page)
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage')
      return (await cdp.send('Runtime.getHeapUsage')).usedSize
    }
    const before = await heap()
    const t0 = Date.now()
    for (let i = 1; i <= 500; i++) {
      await send(page, `turn ${i} with some **markdown** and \`code\``)
      await page.locator('article.msg.agent').filter({ hasText: `turn ${i} with` }).waitFor({ timeout: T })
    }
    const after = await heap()
    const nodes = await page.evaluate(() => document.getElementsByTagName('*').length)
    console.log(`MEMORY: JS heap ${(before / 1e6).toFixed(1)} MB before, ${(after / 1e6).toFixed(1)} MB after 500 turns ` +
      `(${((Date.now() - t0) / 1000).toFixed(0)} s, ${nodes} DOM elements)`)
  })
}

await ctx.close()
srv.kill('SIGTERM')
fake.server.close()
const failed = results.filter((r) => !r.ok).length
if (failed) {
  console.log('--- gateway log (tail) ---\n' + srvLog.join('').split('\n').slice(-30).join('\n'))
  console.log('--- fake model log (tail) ---\n' + modelLog.slice(-15).join('\n'))
  console.log('failure screenshots in ' + tmp)
} else rmSync(tmp, { recursive: true, force: true })
console.log(`${results.length - failed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)

function freePort() {
  return new Promise((ok, bad) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => ok(p))
    })
    s.on('error', bad)
  })
}

async function waitForGateway() {
  const portFile = join(agentDir, '.port')
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (srv.exitCode !== null) throw new Error('openagent serve exited:\n' + srvLog.join(''))
    if (existsSync(portFile)) {
      const p = readFileSync(portFile, 'utf8').trim()
      try {
        const r = await fetch(`http://127.0.0.1:${p}/api/health`)
        if (r.ok) return `http://127.0.0.1:${p}`
      } catch {
        /* not yet */
      }
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('gateway did not start in 30 s:\n' + srvLog.join(''))
}
