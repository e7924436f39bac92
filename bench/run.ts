// npm run bench [-- NAME ...]: runs the named benchmarks (all when none is named).
import 'reflect-metadata';
import { runAudienceBenchmark } from './audience.bench';
import { runIngestBenchmark } from './ingest.bench';
import { runIsolationBenchmark } from './isolation.bench';
import { runLiveBenchmark } from './live.bench';
import { runReadBenchmark } from './read.bench';
import { runScaleBenchmark } from './scale.bench';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  audience: runAudienceBenchmark,
  ingest: runIngestBenchmark,
  isolation: runIsolationBenchmark,
  live: runLiveBenchmark,
  read: runReadBenchmark,
  scale: runScaleBenchmark,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const chosen = names.length > 0 ? names : Object.keys(BENCHMARKS);
  for (const name of chosen) {
    const run = BENCHMARKS[name];
    if (!run) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.stdout.write(`\n== ${name}\n`);
    await run();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
