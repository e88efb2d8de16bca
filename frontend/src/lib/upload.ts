import { getConn, ApiError } from './api'
import type { Attachment, Upload } from './protocol'

/** POST /api/upload (multipart field "file"). */
export async function upload(file: Blob, name: string): Promise<Upload> {
  const c = getConn()
  const fd = new FormData()
  fd.append('file', file, name)
  const headers: Record<string, string> = {}
  if (c.token) headers.Authorization = 'Bearer ' + c.token
  const res = await fetch(c.base_url + '/api/upload', { method: 'POST', body: fd, headers })
  const text = await res.text()
  let data: any
  try { data = JSON.parse(text) } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, `${res.status}: ${data?.error ?? text}`)
  return data as Upload
}

export function kindOf(name: string, mime = ''): Attachment['type'] {
  if (mime.startsWith('image/') || /\.(png|jpe?g|gif|webp|svg|bmp)$/i.test(name)) return 'image'
  if (mime.startsWith('audio/') || /\.(webm|ogg|mp3|wav|m4a|opus|flac)$/i.test(name)) return 'voice'
  if (mime.startsWith('video/') || /\.(mp4|mov|mkv)$/i.test(name)) return 'video'
  return 'file'
}
