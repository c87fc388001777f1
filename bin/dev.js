#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
import {execute} from '@oclif/core'

import {dropStaleManifest} from '../scripts/manifest-guard.js'

dropStaleManifest(new URL('..', import.meta.url).pathname)
await execute({development: true, dir: import.meta.url})
