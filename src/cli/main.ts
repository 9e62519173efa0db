#!/usr/bin/env node
/** The layerflat command line: one subcommand per file, errors as one line and an exit code. */
import './threadpool.js'; // first: it sizes the threadpool before anything starts it
import { Command } from 'commander';
import { VERSION } from '../index.js';
import { exitCodeFor } from './exit-code.js';
import { flattenCommand } from './flatten-command.js';
import { formatError } from './render/format.js';
import { inspectCommand } from './inspect-command.js';
import { verifyCommand } from './verify-command.js';

/** Run one command's work (which may report "different"), turning its outcome into an exit code. */
async function run(work: () => Promise<boolean | void>): Promise<void> {
  try {
    const different = (await work()) === true;
    process.exitCode = exitCodeFor({ different });
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = exitCodeFor({ error });
  }
}

const program = new Command('layerflat')
  .description('Flatten Docker and OCI container images into one exact layer, keeping their metadata')
  .version(VERSION)
  .addCommand(flattenCommand(run))
  .addCommand(verifyCommand(run))
  .addCommand(inspectCommand(run));

// Usage errors share the bad-input code (1 means "images differ"). addCommand() does not pass
// this setting down, so each subcommand gets it too.
for (const command of [program, ...program.commands]) {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}
await program.parseAsync(process.argv);
