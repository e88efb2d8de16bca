// A fake OpenAI-compatible model server for the end-to-end tests. It speaks
// the real chat-completions wire format: SSE chunks with text deltas,
// tool-call deltas (the name first, the arguments in pieces) and a final
// usage chunk when stream_options.include_usage is set.
//
// What it answers depends on the last user message:
//   "... use a tool ..."  → one call of the first offered tool, then text
//   "... slow ..."        → text that trickles for ~30 s (for Stop)
//   anything else         → "Echo: <message>" in a few chunks
import http from 'node:http'

export function startFakeModel({ port = 0, log = () => {} } = {}) {
  const seen = { requests: 0, toolNames: [] }
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x')
    if (req.method === 'GET' && url.pathname.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', owned_by: 'e2e' }] }))
      return
    }
    if (req.method === 'POST' && url.pathname.endsWith('/audio/transcriptions')) {
      // Whisper-style speech-to-text: multipart with a "file" part.
      let n = 0
      let head = ''
      for await (const c of req) {
        n += c.length
        if (head.length < 4096) head += c.toString('latin1')
      }
      seen.transcriptions = (seen.transcriptions ?? 0) + 1
      log(`transcription: ${n} bytes`)
      if (!/name="file"/.test(head) || n < 200) {
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'no audio file in the request', type: 'invalid_request_error' } }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ text: 'hello from my voice' }))
      return
    }
    if (req.method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'not found: ' + url.pathname, type: 'invalid_request_error' } }))
      return
    }
    let body = ''
    for await (const c of req) body += c
    const r = JSON.parse(body)
    seen.requests++
    const msgs = r.messages ?? []
    const lastUser = [...msgs].reverse().find((m) => m.role === 'user')
    const userText = typeof lastUser?.content === 'string' ? lastUser.content : (lastUser?.content ?? []).map((p) => p.text ?? '').join('')
    // Images sent with the last user message, as "image/png" etc.
    const images = Array.isArray(lastUser?.content)
      ? lastUser.content.filter((p) => p.type === 'image_url').map((p) => p.image_url.url.slice(5, p.image_url.url.indexOf(';')))
      : []
    const afterTool = msgs.length > 0 && msgs[msgs.length - 1].role === 'tool'
    const tools = (r.tools ?? []).map((t) => t.function?.name).filter(Boolean)
    const schemas = Object.fromEntries((r.tools ?? []).map((t) => [t.function?.name, t.function?.parameters ?? {}]))
    if (tools.length) seen.toolNames = tools
    log(`request ${seen.requests}: stream=${!!r.stream} tools=${tools.length} last=${JSON.stringify(userText.slice(0, 60))} afterTool=${afterTool}`)

    const id = 'chatcmpl-' + seen.requests
    const created = Math.floor(Date.now() / 1000)
    const usage = { prompt_tokens: 20 + Math.ceil(body.length / 40), completion_tokens: 7, total_tokens: 27 + Math.ceil(body.length / 40) }
    const chunk = (delta, finish = null) => ({ id, object: 'chat.completion.chunk', created, model: r.model, choices: [{ index: 0, delta, finish_reason: finish }] })

    let plan // { text: string[] } | { tool: {name,args} }
    if (/use a tool/i.test(userText) && !afterTool && tools.length) {
      const name = pickTool(tools)
      plan = { tool: { name, args: argsFor(schemas[name]) } }
    } else if (/slow/i.test(userText) && !afterTool) {
      plan = { text: Array.from({ length: 60 }, (_, i) => `word${i} `), delay: 500 }
    } else if (afterTool) {
      plan = { text: ['The tool ', 'ran; ', 'all done.'] }
    } else {
      plan = { text: [images.length ? `Saw ${images.length} image(s): ${images.join(', ')}. ` : '', 'Echo: ', userText.slice(0, 200)] }
    }

    if (!r.stream) {
      const message = plan.tool
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: plan.tool.name, arguments: JSON.stringify(plan.tool.args) } }] }
        : { role: 'assistant', content: plan.text.join('') }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id, object: 'chat.completion', created, model: r.model, choices: [{ index: 0, message, finish_reason: plan.tool ? 'tool_calls' : 'stop' }], usage }))
      return
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    let closed = false
    res.on('close', () => (closed = true))
    const send = (o) => !closed && res.write(`data: ${JSON.stringify(o)}\n\n`)
    send(chunk({ role: 'assistant', content: '' }))
    if (plan.tool) {
      const args = JSON.stringify(plan.tool.args)
      send(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: plan.tool.name, arguments: '' } }] }))
      const mid = Math.floor(args.length / 2)
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, mid) } }] }))
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(mid) } }] }))
      send(chunk({}, 'tool_calls'))
    } else {
      for (const t of plan.text) {
        if (closed) return
        send(chunk({ content: t }))
        if (plan.delay) await new Promise((ok) => setTimeout(ok, plan.delay))
      }
      send(chunk({}, 'stop'))
    }
    if (r.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model: r.model, choices: [], usage })
    if (!closed) res.end('data: [DONE]\n\n')
  })
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok({ server, port: server.address().port, seen })))
}

// A harmless tool the agent surely offers; the test only needs a chip.
function pickTool(tools) {
  const prefs = [/vault.*search|search.*vault/i, /vault.*list|list.*notes/i, /list/i, /search/i, /read/i]
  for (const p of prefs) {
    const t = tools.find((n) => p.test(n))
    if (t) return t
  }
  return tools[0]
}

// Arguments that satisfy the tool's JSON schema: every required property.
function argsFor(schema) {
  const args = {}
  for (const k of schema?.required ?? []) {
    const t = schema.properties?.[k]?.type
    args[k] = t === 'number' || t === 'integer' ? 1 : t === 'boolean' ? false : t === 'array' ? [] : t === 'object' ? {} : 'hello'
  }
  return args
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startFakeModel({ port: Number(process.env.PORT ?? 0), log: console.error })
  console.log(`fake model on http://127.0.0.1:${port}/v1`)
}
