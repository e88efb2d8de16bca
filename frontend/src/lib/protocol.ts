// Types for every WebSocket frame and REST body the UI uses (docs/protocol.md).
//
// Each type has a key list next to it. `Exact` makes tsc fail when a type and
// its key list drift apart; protocol.keys.json is written from the key lists
// (src/lib/protocol.test.ts checks it is current) and gateway/types_test.go
// checks that the Go structs marshal to exactly those keys.

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
function keys<T>() {
  return <const K extends readonly string[]>(k: K & (Exact<keyof T, K[number]> extends true ? unknown : never)) => k
}

// ---- server → client frames ----
export interface AuthOk { type: 'auth_ok'; agent_name: string; version: string; client_id: string; protocol: number }
export interface AuthError { type: 'auth_error'; reason: string }
export interface Queued { type: 'queued'; position: number; session_id: string }
export interface Status { type: 'status'; text: string; session_id: string }
export interface Attachment { type: 'image' | 'file' | 'voice' | 'video' | string; path: string; filename: string }
export interface Response { type: 'response'; text: string; session_id: string; attachments: Attachment[]; model: string | null }
export interface ErrorFrame { type: 'error'; text: string; session_id?: string }
export interface CommandResult { type: 'command_result'; text: string }
export interface Pong { type: 'pong' }
export interface ResourceEvent { type: 'resource_event'; resource: string; action: string; id?: string }

export type ServerFrame = AuthOk | AuthError | Queued | Status | Response | ErrorFrame | CommandResult | Pong | ResourceEvent

// ---- client → server frames ----
export interface AuthFrame { type: 'auth'; token: string; client_id: string }
export interface MessageFrame { type: 'message'; text: string; session_id: string }
export interface CommandFrame { type: 'command'; name: string; session_id?: string }
export interface PingFrame { type: 'ping' }
export type ClientFrame = AuthFrame | MessageFrame | CommandFrame | PingFrame

// ---- tool events inside status.text (contract §2.7) ----
export interface ToolEvent { tool: string; status: 'running' | 'done' | 'error'; params?: unknown; result?: unknown; error?: string }

// ---- REST bodies ----
export interface Health { status: string; agent: string; version: string; connected_clients: number }
export interface AgentInfo { name: string; agent_dir: string; port: number; host: string; version: string; protocol: number }
export interface Command { name: string; description: string; menu: boolean; help: boolean }
export interface CommandsBody { commands: Command[] }
export interface PairingInfo { lan: boolean; host: string; port: number; token: string; urls: string[]; qr_png: string }
export interface ConfigWrite { ok: boolean; restart_required: boolean }
export interface OkBody { ok: boolean }
export interface LogEntry { ts: number; event: string; [k: string]: unknown }

// usage (§4.5, internal/usage)
export interface UsageMonth {
  month: string; monthly_spend: number; monthly_budget: number; remaining: number | null
  by_model: Record<string, number>; calls?: number; estimated_calls?: number; estimated_spend?: number
  warn_only?: boolean; [k: string]: unknown
}
export interface UsageDay {
  date: string; model: string; cost: number; input_tokens: number; output_tokens: number
  cached_tokens: number; request_count: number; estimated_count: number
}
export interface PriceRow {
  model: string; input_cost_per_million: number; output_cost_per_million: number
  cached_input_cost_per_million?: number; context_window?: number; source: string; priced: boolean; used: boolean
}

// models and providers (§4.6, A20)
export interface ProviderModel { id: string; input_cost_per_million?: number; output_cost_per_million?: number; context_window?: number }
export interface Provider {
  type?: string; base_url?: string; api_key_display?: string; models?: (ProviderModel | string)[]
  disabled_models?: string[]; [k: string]: unknown
}
export interface ActiveModel { provider?: string; model_id?: string; monthly_budget?: number; [k: string]: unknown }
export interface ModelsBody { models: Record<string, Provider>; active: ActiveModel }
export interface ModelTest { ok: boolean; model?: string; response?: string; error?: string; ttft_ms?: number; usage_reported?: boolean; [k: string]: unknown }

// vault (§4.3, A16)
export interface NoteMeta { path: string; title: string; tags: string[]; type: string; modified: number; size: number }
export interface Note { path: string; content: string; frontmatter: Record<string, unknown>; body: string; links: string[]; modified: number; backlinks?: string[] | { path: string; title?: string }[] }
export interface SearchHit { path: string; title: string; tags: string[]; snippet?: string }
export interface GraphNode { id: string; label: string; tags: string[]; type: string; degree?: number; unresolved?: boolean }
export interface GraphEdge { source: string; target: string }
export interface Graph { nodes: GraphNode[]; edges: GraphEdge[] }

// mcp (§4.7, A15)
export interface Mcp {
  name: string; kind: string; command: string[] | null; args?: string[]; url: string | null; enabled: boolean
  status?: string; error?: string; tools?: number; [k: string]: unknown
}
// scheduled tasks (§4.8)
export interface Task {
  id: string; name: string; cron_expression: string; prompt: string; enabled: boolean
  last_run: number | null; next_run: number | null; [k: string]: unknown
}
export interface Upload { path: string; filename: string; transcription?: string; transcription_error?: string }

// Key lists checked against the Go structs (gateway/types_test.go).
export const frameKeys = {
  auth_ok: keys<AuthOk>()(['type', 'agent_name', 'version', 'client_id', 'protocol']),
  auth_error: keys<AuthError>()(['type', 'reason']),
  queued: keys<Queued>()(['type', 'position', 'session_id']),
  status: keys<Status>()(['type', 'text', 'session_id']),
  response: keys<Response>()(['type', 'text', 'session_id', 'attachments', 'model']),
  error: keys<ErrorFrame>()(['type', 'text', 'session_id']),
  command_result: keys<CommandResult>()(['type', 'text']),
  pong: keys<Pong>()(['type']),
  resource_event: keys<ResourceEvent>()(['type', 'resource', 'action', 'id']),
  attachment: keys<Attachment>()(['type', 'path', 'filename']),
}
export const clientFrameKeys = {
  auth: keys<AuthFrame>()(['type', 'token', 'client_id']),
  message: keys<MessageFrame>()(['type', 'text', 'session_id']),
  command: keys<CommandFrame>()(['type', 'name', 'session_id']),
  ping: keys<PingFrame>()(['type']),
}
export const restKeys = {
  health: keys<Health>()(['status', 'agent', 'version', 'connected_clients']),
  agent_info: keys<AgentInfo>()(['name', 'agent_dir', 'port', 'host', 'version', 'protocol']),
  command: keys<Command>()(['name', 'description', 'menu', 'help']),
  commands: keys<CommandsBody>()(['commands']),
  pairing: keys<PairingInfo>()(['lan', 'host', 'port', 'token', 'urls', 'qr_png']),
  config_write: keys<ConfigWrite>()(['ok', 'restart_required']),
  ok: keys<OkBody>()(['ok']),
  usage_day: keys<UsageDay>()(['date', 'model', 'cost', 'input_tokens', 'output_tokens', 'cached_tokens', 'request_count', 'estimated_count']),
  price_row: keys<PriceRow>()(['model', 'input_cost_per_million', 'output_cost_per_million', 'cached_input_cost_per_million', 'context_window', 'source', 'priced', 'used']),
}
