#!/usr/bin/env node
/** The layerflat command line: one subcommand per file, errors as one line and an exit code. */
import './threadpool.js'; // first: it sizes the threadpool before anything starts it
import { Command, CommanderError } from 'commander';
import { VERSION } from '../index.js';
import { EXIT_BAD_INPUT, exitCodeFor } from './exit-code.js';
import { flattenCommand } from './flatten-command.js';
import { formatError } from './render/format.js';
import { inspectCommand } from './inspect-command.js';
import { reclaimCommand } from './reclaim-command.js';
import { removeTemporariesOnSignals } from './signals.js';
import { unpackCommand } from './unpack-command.js';
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

// A reader of stdout that quits (`| head`, a failed `docker load`) makes stdout emit EPIPE; the
// command that was writing reports it, and nothing may crash on it afterwards.
process.stdout.on('error', () => undefined);
removeTemporariesOnSignals();

const program = new Command('layerflat')
  .description('Flatten Docker and OCI container images into one exact layer, keeping their metadata')
  .version(VERSION)
  .addCommand(flattenCommand(run))
  .addCommand(verifyCommand(run))
  .addCommand(inspectCommand(run))
  .addCommand(unpackCommand(run))
  .addCommand(reclaimCommand(run));

// Usage errors in the documented one-line form, with the bad-input code (1 means "images
// differ"). addCommand() does not pass these settings down, so each subcommand gets them too.
// Commander 11 (the newest that supports Node 16) accepts extra arguments unless told not to.
for (const command of [program, ...program.commands]) {
  command.allowExcessArguments(false);
  command.configureOutput({
    outputError: (text, write) => write(`layerflat: error [USAGE]: ${text.replace(/^error: /, '').trim()}\n`),
  });
  command.exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT));
}
await program.parseAsync(process.argv);
