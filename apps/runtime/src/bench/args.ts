/** What `npm run bench -- …` asked for. */
export interface BenchArgs {
  /** Fewer repetitions and smaller loads (about 30 s instead of about 2 min). */
  quick: boolean;
  /** Benchmark names or name prefixes to run (empty: all). */
  only: string[];
  /** Print the usage and exit. */
  help: boolean;
}

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const BENCH_USAGE = `usage: npm run bench [-- --quick] [-- --only NAME[,NAME…]]
  --quick        fewer repetitions (about 30 s)
  --only NAME    run only the benchmarks whose name is NAME or starts with NAME (repeatable, comma-separated)
Prints one JSON document on stdout; progress goes to stderr.`;

/** Parses the bench command line (`--only a,b`, `--only=a`, repeatable). */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value.trim() === '' || value.startsWith('--')) {
        throw new BenchUsageError('--only expects a benchmark name');
      }
      args.only.push(
        ...value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
    } else throw new BenchUsageError(`unknown argument '${arg}'`);
  }
  return args;
}

/**
 * The names selected by `--only` patterns, in suite order: a pattern matches a name exactly or as a
 * dash-separated prefix (`workflow` → `workflow-cold`, …). A pattern matching nothing is an error naming the choices.
 */
export function selectBenchmarks(names: readonly string[], only: readonly string[]): string[] {
  if (only.length === 0) return [...names];
  const matches = (name: string, pattern: string): boolean =>
    name === pattern || name.startsWith(`${pattern}-`);
  for (const pattern of only) {
    if (!names.some((name) => matches(name, pattern))) {
      throw new BenchUsageError(`--only ${pattern}: no such benchmark (choose from ${names.join(', ')})`);
    }
  }
  return names.filter((name) => only.some((pattern) => matches(name, pattern)));
}
