// A tiny stdio MCP server for the end-to-end tests: newline-delimited
// JSON-RPC on stdin/stdout, as the MCP stdio transport specifies. It answers
// initialize, ping, tools/list (the tools below) and tools/call (echo), so
// the gateway really starts it, connects and counts its tools.
//
//   node e2e/tiny-mcp.mjs
import { createInterface } from 'node:readline'

const tools = [
  { name: 'echo', description: 'Echo text back.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
  { name: 'now', description: 'The server time.', inputSchema: { type: 'object', properties: {} } },
]

const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n')

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return
  let msg
  try {
    msg = JSON.parse(line)
  } catch {
    return send({ id: null, error: { code: -32700, message: 'parse error' } })
  }
  if (msg.id === undefined || msg.id === null) return // a notification
  const { id, method, params } = msg
  switch (method) {
    case 'initialize':
      return send({ id, result: {
        protocolVersion: params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'tiny-mcp', version: '1.0.0' },
      } })
    case 'ping':
      return send({ id, result: {} })
    case 'tools/list':
      return send({ id, result: { tools } })
    case 'tools/call':
      if (params?.name === 'echo') return send({ id, result: { content: [{ type: 'text', text: 'echo: ' + (params.arguments?.text ?? '') }] } })
      if (params?.name === 'now') return send({ id, result: { content: [{ type: 'text', text: new Date().toISOString() }] } })
      return send({ id, error: { code: -32602, message: 'unknown tool ' + params?.name } })
    default:
      return send({ id, error: { code: -32601, message: 'method not found: ' + method } })
  }
})
