// The facts a cleanup pass judges, as `plan.ts` gathers them from one snapshot of the daemon.

/** What the rules need to know about a container (from `/containers/json?all=1`). */
export interface ContainerFact {
  id: string;
  name: string;
  /** created, running, paused, restarting, removing, exited, dead */
  state: string;
  /** Creation time in ms; `createdResolutionMs` says how precise it is (the list gives seconds). */
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
  imageId: string;
  /**
   * Networks it is attached to, by name and by id. A container that never started has an empty
   * NetworkID in the list, so the name is the only link; the daemon itself lets a network with
   * stopped containers attached be removed, which would break them on their next start.
   */
  networks: string[];
  /** Names of the volumes it mounts (type volume). */
  volumeNames: string[];
  /**
   * The labels of its image, looked up for containers carrying an ownership label: a label the
   * container merely inherited from its image's LABEL owns nothing. Undefined: not known.
   */
  imageLabels?: Record<string, string>;
  /** Names of the volumes the daemon created for it unnamed (image VOLUME, `-v /path`). */
  anonymousVolumes?: string[];
  /**
   * Why the process of the run that owns it is provably gone (its run record says it ended, or
   * its pid on this host is dead). Set only for containers carrying a run label of their own.
   */
  ownerGone?: string;
}

export interface NetworkFact {
  id: string;
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
}

export interface VolumeFact {
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  createdAt: string;
  labels: Record<string, string>;
}

export interface ImageFact {
  id: string;
  name: string;
  createdMs: number;
  createdResolutionMs: number;
  labels: Record<string, string>;
  size: number;
}

/** Every container on the daemon (never scoped: mounts and reapers outside the scope count too). */
export interface Snapshot {
  containers: ContainerFact[];
  networks: NetworkFact[];
  volumes: VolumeFact[];
  /** Dangling images only, and only when images are included. */
  images: ImageFact[];
}

/** States in which a container is in use or in flux; `created`, `exited` and `dead` are not. */
export const BUSY_STATES: ReadonlySet<string> = new Set(['running', 'restarting', 'paused', 'removing']);
