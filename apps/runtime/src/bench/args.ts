/** What `npm run bench -- …` asked for. */
export interface BenchArgs {
  /** Fewer repetitions and smaller loads (about 30 s instead of about 2 min). */
  quick: boolean;
  /** Benchmark names or name prefixes to run (empty: all). */
  only: string[];
  /** onnxruntime execution providers to try in order (default: $DIFFEDIT_PROVIDERS, else the runtime's). */
  providers?: string[];
  /** onnxruntime intra-op threads per session for the workflow benchmarks (default: the runtime's). */
  threads?: number;
  /** Let idle onnxruntime threads spin (default: the runtime's, off). */
  spin?: boolean;
  /** Also write the JSON report to this file. */
  out?: string;
  /** Run nothing: pool the overhead ratio's pairs of these saved reports (`--pool FILE…`, see pool.ts). */
  pool?: string[];
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
  --out FILE     also write the JSON report to FILE (npm prints its own banner on stdout unless run with -s)
  --threads N    onnxruntime intra-op threads per session in the workflow benchmarks (default: one per core)
  --spin         let idle onnxruntime threads spin (default: off)
  --providers L  onnxruntime execution providers to try, e.g. cpu or cuda,cpu (default: $DIFFEDIT_PROVIDERS or cuda,cpu)
  --pool FILE…   run nothing: pool the overhead_ratio pairs of reports saved with --out (the rest of the line)
Prints one JSON document on stdout; progress goes to stderr.`;

/** Parses the bench command line (`--only a,b`, `--only=a`, repeatable); `env` supplies DIFFEDIT_PROVIDERS. */
export function parseBenchArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], help: false };
  const fromEnv = splitList(env.DIFFEDIT_PROVIDERS ?? '');
  if (fromEnv.length > 0) args.providers = fromEnv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--out') {
      const file = argv[++i];
      if (file === undefined || file === '' || file.startsWith('--')) {
        throw new BenchUsageError('--out expects a file name');
      }
      args.out = file;
    } else if (arg === '--providers') {
      const providers = splitList(argv[++i] ?? '');
      if (providers.length === 0)
        throw new BenchUsageError('--providers expects a list such as cpu or cuda,cpu');
      args.providers = providers;
    } else if (arg === '--threads') {
      const threads = Number(argv[++i]);
      if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
        throw new BenchUsageError('--threads expects a whole number from 1 to 1024');
      args.threads = threads;
    } else if (arg === '--spin') args.spin = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--pool') {
      // it runs nothing, so the run options mean nothing with it: alone, the files after it
      const files = argv.slice(i + 1);
      if (i > 0)
        throw new BenchUsageError('--pool reads saved reports and runs nothing: give it no other option');
      if (files.length === 0 || files.some((f) => f === '' || f.startsWith('-'))) {
        throw new BenchUsageError('--pool expects report files (saved with --out) and nothing else');
      }
      args.pool = [...files];
      break;
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (value === undefined || value.trim() === '' || value.startsWith('--')) {
        throw new BenchUsageError('--only expects a benchmark name');
      }
      args.only.push(...splitList(value));
    } else throw new BenchUsageError(`unknown argument '${arg}'`);
  }
  return args;
}

/**
 * The names selected by `--only` patterns, in suite order: a pattern that is a benchmark's name selects that one;
 * otherwise it selects every name it prefixes up to a dash (`workflow` → `workflow-cold`, …). A pattern matching
 * nothing is an error naming the choices.
 */
export function selectBenchmarks(names: readonly string[], only: readonly string[]): string[] {
  if (only.length === 0) return [...names];
  const chosen = new Set<string>();
  for (const pattern of only) {
    const matches = names.includes(pattern) ? [pattern] : names.filter((n) => n.startsWith(`${pattern}-`));
    if (matches.length === 0) {
      throw new BenchUsageError(`--only ${pattern}: no such benchmark (choose from ${names.join(', ')})`);
    }
    for (const name of matches) chosen.add(name);
  }
  return names.filter((name) => chosen.has(name));
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '' && !v.startsWith('--'));
}
