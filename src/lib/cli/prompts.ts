import {cancelled} from '../core/errors.js'

/**
 * The prompt wrapper: every question pdhooks asks goes through this object, so tests can replace its members.
 * `@inquirer/prompts` is loaded only when a question is really asked. Ctrl-C (or a closed input) at any question is
 * the PdhooksError `cancelled` (exit 130), which the base command reports without alarm.
 */
export interface Choice<T = string> {
  checked?: boolean
  name?: string
  value: T
}

/** Runs one question; Ctrl-C there is a quiet cancellation, not a crash. */
async function ask<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question()
  } catch (error: any) {
    if (error?.name === 'ExitPromptError' || error?.name === 'AbortPromptError') throw cancelled()
    throw error
  }
}

const defaults = {
  async checkbox<T = string>(message: string, choices: Array<Choice<T>>): Promise<T[]> {
    const {checkbox} = await import('@inquirer/prompts')
    return ask(() => checkbox<T>({choices, message}))
  },
  async confirm(message: string, defaultValue = false): Promise<boolean> {
    const {confirm} = await import('@inquirer/prompts')
    return ask(() => confirm({default: defaultValue, message}))
  },
  async input(message: string, opts: {default?: string; validate?: (v: string) => boolean | string} = {}): Promise<string> {
    const {input} = await import('@inquirer/prompts')
    return ask(() => input({default: opts.default, message, validate: opts.validate}))
  },
  /** May we ask? Only when stdin and stdout are TTYs, CI is unset and --json was not given. */
  interactive(json = false): boolean {
    return !json && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) && !process.env.CI
  },
  async password(message: string): Promise<string> {
    const {password} = await import('@inquirer/prompts')
    return ask(() => password({mask: '*', message}))
  },
  async select<T = string>(message: string, choices: Array<Choice<T>>, defaultValue?: T): Promise<T> {
    const {select} = await import('@inquirer/prompts')
    return ask(() => select<T>({choices, default: defaultValue, message}))
  },
}

export type Prompts = typeof defaults

/** The one instance: tests replace its members (test/support/run.ts stubPrompts). */
export const prompts: Prompts = {...defaults}
