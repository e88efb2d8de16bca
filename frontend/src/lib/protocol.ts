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
export interface SessionList { sessions: { id: string; title: string; messages: number; created_at: number; updated_at: number }[] }
export interface SessionBody {
  id: string
  messages: {
    role: 'user' | 'assistant'
    text: string
    model?: string
    created_at: number
    attachments: Attachment[]
    tools?: { tool: string; status: 'done' | 'error'; params?: unknown; result?: string; error?: string }[]
  }[]
}
export interface OkBody { ok: boolean }
export interface LogEntry { ts: number; event: string; [k: string]: unknown }

// usage (§4.5, gateway/usage.go, internal/usage)
export interface UsageMonth {
  month: string; monthly_spend: number; monthly_budget: number; remaining: number | null
  by_model: Record<string, number>; calls: number; estimated_calls: number; estimated_spend: number; note?: string
}
export interface UsageDay {
  date: string; model: string; cost: number; input_tokens: number; output_tokens: number
  cached_tokens: number; request_count: number; estimated_count: number
}
export interface PriceEntry { input_cost_per_million: number; output_cost_per_million: number; source: string; priced: boolean }
export interface PriceRow {
  model: string; input_cost_per_million: number; output_cost_per_million: number
  cached_input_cost_per_million?: number; context_window?: number; source: string; priced: boolean; used: boolean
}
export interface PricingBody { pricing: Record<string, PriceEntry>; models: PriceRow[]; checked: string; source: string; unpriced: string[] }

// models and providers (§4.6, A20, gateway/models.go)
export interface ProviderModel { id: string; input_cost_per_million: number; output_cost_per_million: number; context_window?: number }
export interface Provider { type: string; api_key_display?: string; base_url?: string; models: ProviderModel[]; disabled_models: string[] }
export interface ActiveModel { provider: string; model_id: string; runtime_id?: string; monthly_budget: number; budget_warn_only: boolean; max_iterations?: number }
export interface ModelsBody { models: Record<string, Provider>; active: ActiveModel }
export interface ModelTest {
  ok: boolean; model: string; reply: string; error?: string; error_kind?: string; ttft_ms: number; total_ms: number
  streamed: boolean; chunks: number; usage_reported: boolean; input_tokens: number; output_tokens: number; cost: number
}

// vault (§4.3, A16, gateway/vault.go)
export interface NoteMeta { path: string; title: string; tags: string[]; type: string; modified: number; size: number }
export interface Note {
  path: string; content: string; frontmatter: Record<string, unknown>; body: string; title: string; tags: string[]
  aliases: string[]; type: string; links: string[]; backlinks: string[]; modified: number; size: number
}
export interface SearchHit { path: string; title: string; tags: string[]; snippet: string; score: number }
export interface GraphNode { id: string; label: string; tags: string[]; type: string; degree: number; unresolved: boolean }
export interface GraphEdge { source: string; target: string }
export interface Graph { nodes: GraphNode[]; edges: GraphEdge[] }

// mcp (§4.7, A15, internal/mcp Row)
export interface Mcp {
  name: string; kind: string; builtin_name: string | null; command: string[] | null; args: string[]; url: string | null
  env: Record<string, string>; headers: Record<string, string>; oauth: boolean; enabled: boolean; source: string
  created_at: number; updated_at: number; status: string; error: string; tools: number; note?: string
}
// scheduled tasks (§4.8); the UI reads these keys of the task object
export interface Task { id: string; name: string; cron_expression: string; prompt: string; enabled: boolean; last_run: number | null; next_run: number | null }
export interface Upload { path: string; filename: string; size: number; content_type: string; transcription?: string; transcription_error?: string }
export interface UpdateReply { updated: boolean; version?: string; old?: string; new?: string; restarting?: boolean }

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
  usage_month: keys<UsageMonth>()(['month', 'monthly_spend', 'monthly_budget', 'remaining', 'by_model', 'calls', 'estimated_calls', 'estimated_spend', 'note']),
  price_entry: keys<PriceEntry>()(['input_cost_per_million', 'output_cost_per_million', 'source', 'priced']),
  pricing: keys<PricingBody>()(['pricing', 'models', 'checked', 'source', 'unpriced']),
  provider: keys<Provider>()(['type', 'api_key_display', 'base_url', 'models', 'disabled_models']),
  provider_model: keys<ProviderModel>()(['id', 'input_cost_per_million', 'output_cost_per_million', 'context_window']),
  active_model: keys<ActiveModel>()(['provider', 'model_id', 'runtime_id', 'monthly_budget', 'budget_warn_only', 'max_iterations']),
  models: keys<ModelsBody>()(['models', 'active']),
  model_test: keys<ModelTest>()(['ok', 'model', 'reply', 'error', 'error_kind', 'ttft_ms', 'total_ms', 'streamed', 'chunks', 'usage_reported', 'input_tokens', 'output_tokens', 'cost']),
  note_meta: keys<NoteMeta>()(['path', 'title', 'tags', 'type', 'modified', 'size']),
  note: keys<Note>()(['path', 'content', 'frontmatter', 'body', 'title', 'tags', 'aliases', 'type', 'links', 'backlinks', 'modified', 'size']),
  search_hit: keys<SearchHit>()(['path', 'title', 'tags', 'snippet', 'score']),
  graph_node: keys<GraphNode>()(['id', 'label', 'tags', 'type', 'degree', 'unresolved']),
  graph_edge: keys<GraphEdge>()(['source', 'target']),
  graph: keys<Graph>()(['nodes', 'edges']),
  mcp: keys<Mcp>()(['name', 'kind', 'builtin_name', 'command', 'args', 'url', 'env', 'headers', 'oauth', 'enabled', 'source', 'created_at', 'updated_at', 'status', 'error', 'tools', 'note']),
  upload: keys<Upload>()(['path', 'filename', 'size', 'content_type', 'transcription', 'transcription_error']),
  update: keys<UpdateReply>()(['updated', 'version', 'old', 'new', 'restarting']),
}
/** Keys of the task object the UI reads; the Go side may send more (the *_iso fields). */
export const taskKeysRead = keys<Task>()(['id', 'name', 'cron_expression', 'prompt', 'enabled', 'last_run', 'next_run'])
