#!/usr/bin/env node
// The paylink command. Runs the TypeScript sources directly through tsx's loader.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
await main(process.argv.slice(2))
