import type { Completion, CompletionCallback, SubmitIo } from './queue-pair.js';
import type { What } from './completion-error.js';

/** What a RemoteBdev needs from its controller (HostController implements it). */
export interface RemoteNamespaceHost {
  readonly subnqn: string;
  readonly maxTransferBytes: number;
  ioCommand(sqe: Buffer, io: SubmitIo | undefined, what: What): Promise<Completion>;
  /** ioCommand() with a callback instead of a promise (HostController has it). */
  ioCommandWithCallback?(
    sqe: Buffer,
    io: SubmitIo | undefined,
    what: What,
    done: CompletionCallback,
  ): void;
  adminCommand(sqe: Buffer, io: SubmitIo | undefined, what: string): Promise<Completion>;
  close(): Promise<void>;
}
