// Drops oclif.manifest.json when it is older than any source file or package.json, so that dev and test runs never
// load commands or flags from a stale manifest (oclif then reads the commands from src/ itself).
import {readdirSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'

function newest(dir) {
  let max = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, entry.name)
    const t = entry.isDirectory() ? newest(p) : statSync(p).mtimeMs
    if (t > max) max = t
  }

  return max
}

export function dropStaleManifest(root) {
  const manifest = join(root, 'oclif.manifest.json')
  let built
  try {
    built = statSync(manifest).mtimeMs
  } catch {
    return false
  }

  const src = Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs)
  if (src > built) {
    rmSync(manifest, {force: true})
    return true
  }

  return false
}
