#!/usr/bin/env node
// The paylink command. Runs the compiled build (dist/, made by `npm run build`, which
// `npm ci` / `npm install` run through `prepare`): no TypeScript loader, no bundler at start.
// When there is no build, or a source file is newer than it (a checkout being edited), or
// PAYLINK_FROM_SOURCE=1, it runs the TypeScript sources through tsx instead.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const stamp = path.join(root, 'dist', '.build-stamp')

/** Whether dist/ was built after every file of src/ last changed. */
function buildIsFresh() {
  let built
  try {
    built = fs.statSync(stamp).mtimeMs
  } catch {
    return false
  }
  const newer = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name)
      return e.isDirectory() ? newer(p) : fs.statSync(p).mtimeMs > built
    })
  return !newer(path.join(root, 'src'))
}

if (process.env.PAYLINK_FROM_SOURCE !== '1' && buildIsFresh()) {
  const { main } = await import('../dist/cli/main.js')
  await main(process.argv.slice(2))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  const { main } = await import('../src/cli/main.ts')
  await main(process.argv.slice(2))
}
