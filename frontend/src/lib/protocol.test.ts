import { describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { clientFrameKeys, frameKeys, restKeys, taskKeysRead } from './protocol'

// protocol.keys.json is what gateway/types_test.go compares with the Go
// structs. It must equal the key lists that tsc checks against the types.
const file = fileURLToPath(new URL('./protocol.keys.json', import.meta.url))
const want = JSON.stringify({ frames: frameKeys, client_frames: clientFrameKeys, rest: restKeys, task_read: taskKeysRead }, null, 2) + '\n'

describe('protocol.keys.json', () => {
  it('matches the TypeScript key lists (UPDATE_KEYS=1 rewrites it)', () => {
    if (process.env.UPDATE_KEYS) writeFileSync(file, want)
    expect(readFileSync(file, 'utf8')).toBe(want)
  })
})
