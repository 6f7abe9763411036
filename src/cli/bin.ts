/** Runs the CLI from source (`node --import tsx src/cli/bin.ts ...`); the build runs main.ts through dist/berth.cjs. */
import { start } from './main.ts';

start(process.argv.slice(2));
