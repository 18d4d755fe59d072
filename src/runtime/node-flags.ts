/**
 * Command-line flags for an instance process, chosen by what the running Node accepts: instances run
 * on the Node that runs the platform, and flag names change between releases (Node 20 knows only
 * `--experimental-permission`; 22.13 / 23.5 renamed it `--permission`, and Node 24 refuses the old
 * name with "bad option").
 */

/** The flags Node accepts in `NODE_OPTIONS`: every flag used here is one of those. */
type FlagSet = { has(flag: string): boolean };

export interface SandboxPaths {
  readonly bootstrapPath: string;
  readonly codeDir: string;
  readonly tmpDir: string;
}

/** The permission-model flag of this Node: the stable name where it exists, else the experimental one. */
export function permissionFlag(flags: FlagSet = process.allowedNodeEnvironmentFlags): string {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  throw new Error(`Node ${process.version} has no permission model: Nuvola needs Node.js 20.19 or later`);
}

/**
 * The sandbox: read the bootstrap and the instance's own code and temporary directories, write only
 * the latter; no child processes, workers, addons, WASI or inspector (the permission model denies
 * what is not allowed).
 */
export function instanceFlags(paths: SandboxPaths, heapMb: number, flags: FlagSet = process.allowedNodeEnvironmentFlags): string[] {
  const out = [
    permissionFlag(flags),
    `--allow-fs-read=${paths.bootstrapPath}`,
    `--allow-fs-read=${paths.codeDir}/`,
    `--allow-fs-read=${paths.tmpDir}/`,
    `--allow-fs-write=${paths.tmpDir}/`,
  ];
  // Node 20 warns that the permission model is experimental, on every start.
  if (flags.has('--disable-warning')) out.push('--disable-warning=ExperimentalWarning');
  out.push(
    '--enable-source-maps',
    `--max-old-space-size=${heapMb}`,
    // A small young generation keeps an idle instance's footprint low.
    '--max-semi-space-size=2',
  );
  return out;
}
