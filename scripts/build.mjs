#!/usr/bin/env node
/**
 * The compiled build (`npm run build`; run by `prepare` at `npm ci` / `npm install`): the
 * TypeScript of src/ to dist/ with tsc, the migrations copied beside it, and the page's
 * script, stylesheet and /embed.js bundled by esbuild into dist/page/assets.json (the
 * portal's into dist/portal/assets.json). `paylink`
 * (bin/paylink.mjs) then runs dist/ with neither tsx nor esbuild on the start path.
 * dist/.build-stamp records the build; bin/paylink.mjs runs the sources instead when any
 * of them is newer (a checkout being edited).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const started = Date.now()

fs.rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })

fs.cpSync(path.join(root, 'src/storage/migrations'), path.join(dist, 'storage/migrations'), { recursive: true })

const { bundlePageAssets } = await import(path.join(dist, 'page/bundle.js'))
const texts = await bundlePageAssets(path.join(root, 'src/page/client'))
fs.writeFileSync(path.join(dist, 'page/assets.json'), JSON.stringify(texts))
const { bundlePortalAssets } = await import(path.join(dist, 'portal/bundle.js'))
fs.writeFileSync(path.join(dist, 'portal/assets.json'), JSON.stringify(await bundlePortalAssets(path.join(root, 'src/portal/client'))))

fs.writeFileSync(path.join(dist, '.build-stamp'), new Date().toISOString())
console.log(`paylink: built dist/ in ${Date.now() - started} ms`)
