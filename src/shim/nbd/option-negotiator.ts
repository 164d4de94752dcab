/**
 * The server's answers to option requests during fixed newstyle negotiation (proto.md "Option
 * types", "Option reply types", "Metadata querying"). Holds what the options negotiate
 * (structured replies, the selected metadata context) and returns, for each option, the replies to
 * send and whether negotiation goes on, ends in transmission, or ends the session. No I/O.
 */
import {
  decodeGoData,
  decodeMetaContextData,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeOptionReply,
  encodeRepMetaContext,
  encodeRepServer,
  NbdOptionError,
} from './handshake-codec.js';
import { transmissionFlags, type NbdExport } from './nbd-export.js';
import {
  META_CONTEXT_BASE_ALLOCATION,
  META_NAMESPACE_BASE,
  NbdInfo,
  NbdOption,
  NbdReply,
} from './protocol.js';

/** The id this server gives base:allocation in NBD_REP_META_CONTEXT and BLOCK_STATUS chunks. */
export const BASE_ALLOCATION_CONTEXT_ID = 1;

export type OptionOutcome =
  | { kind: 'continue'; replies: Buffer[] }
  /** Enter transmission on `export` after sending the replies. */
  | { kind: 'transmission'; replies: Buffer[]; export: NbdExport; baseAllocation: boolean }
  /** NBD_OPT_ABORT: send the replies, then close (a soft disconnect by the client). */
  | { kind: 'abort'; replies: Buffer[] }
  /** proto.md: a server that cannot satisfy NBD_OPT_EXPORT_NAME MUST terminate the session. */
  | { kind: 'disconnect'; reason: string };

const OPTION_NAMES: Record<number, string> = {
  [NbdOption.ExportName]: 'NBD_OPT_EXPORT_NAME',
  [NbdOption.Abort]: 'NBD_OPT_ABORT',
  [NbdOption.List]: 'NBD_OPT_LIST',
  [NbdOption.StartTls]: 'NBD_OPT_STARTTLS',
  [NbdOption.Info]: 'NBD_OPT_INFO',
  [NbdOption.Go]: 'NBD_OPT_GO',
  [NbdOption.StructuredReply]: 'NBD_OPT_STRUCTURED_REPLY',
  [NbdOption.ListMetaContext]: 'NBD_OPT_LIST_META_CONTEXT',
  [NbdOption.SetMetaContext]: 'NBD_OPT_SET_META_CONTEXT',
};

export const optionName = (option: number): string => OPTION_NAMES[option] ?? `option ${option}`;

export class OptionNegotiator {
  /** NBD_OPT_STRUCTURED_REPLY was acknowledged. */
  structuredReplies = false;
  /** Export for which the last NBD_OPT_SET_META_CONTEXT selected base:allocation. */
  private baseAllocationFor: NbdExport | undefined;

  constructor(
    private readonly exports: readonly NbdExport[],
    /** The client set NBD_FLAG_C_NO_ZEROES. */
    private readonly noZeroes: boolean,
  ) {}

  handle(option: number, data: Buffer): OptionOutcome {
    try {
      return this.dispatch(option, data);
    } catch (err) {
      if (!(err instanceof NbdOptionError)) throw err;
      return this.fail(option, err.reply, err.message);
    }
  }

  private dispatch(option: number, data: Buffer): OptionOutcome {
    switch (option) {
      case NbdOption.ExportName:
        return this.exportName(data);
      case NbdOption.Abort:
        // proto.md: the server MUST reply with NBD_REP_ACK and SHOULD ignore any data.
        return { kind: 'abort', replies: [encodeOptionReply(option, NbdReply.Ack)] };
      case NbdOption.List:
        return this.list(data);
      case NbdOption.StartTls:
        this.noData(option, data);
        // proto.md "NOTLS mode": answer NBD_REP_ERR_POLICY (or UNSUP), never TLS_REQD.
        return this.fail(option, NbdReply.ErrPolicy, 'this server does not offer TLS');
      case NbdOption.Info:
      case NbdOption.Go:
        return this.infoOrGo(option, data);
      case NbdOption.StructuredReply:
        this.noData(option, data);
        this.structuredReplies = true;
        return this.ok(option, []);
      case NbdOption.ListMetaContext:
      case NbdOption.SetMetaContext:
        return this.metaContext(option, data);
      default:
        return this.fail(option, NbdReply.ErrUnsup, `${optionName(option)} is not supported`);
    }
  }

  /** Export by name; the empty name is the default export (the first one). */
  private find(name: string): NbdExport | undefined {
    return name === '' ? this.exports[0] : this.exports.find((e) => e.name === name);
  }

  private exportName(data: Buffer): OptionOutcome {
    const name = data.toString('utf8');
    const exp = this.find(name);
    if (!exp)
      return { kind: 'disconnect', reason: `NBD_OPT_EXPORT_NAME of unknown export "${name}"` };
    const flags = transmissionFlags(exp, this.structuredReplies);
    return {
      kind: 'transmission',
      replies: [encodeExportNameReply(exp.size, flags, this.noZeroes)],
      export: exp,
      baseAllocation: this.baseAllocationFor === exp,
    };
  }

  private list(data: Buffer): OptionOutcome {
    this.noData(NbdOption.List, data);
    const replies = this.exports.map((e) =>
      encodeOptionReply(NbdOption.List, NbdReply.Server, encodeRepServer(e.name, e.description)),
    );
    return this.ok(NbdOption.List, replies);
  }

  private infoOrGo(option: NbdOption.Info | NbdOption.Go, data: Buffer): OptionOutcome {
    const req = decodeGoData(data);
    const exp = this.find(req.name);
    if (!exp) return this.fail(option, NbdReply.ErrUnknown, `no export named "${req.name}"`);
    const flags = transmissionFlags(exp, this.structuredReplies);
    const info = (payload: Buffer) => encodeOptionReply(option, NbdReply.Info, payload);
    const replies = [info(encodeInfoExport(exp.size, flags))];
    if (req.requests.includes(NbdInfo.Name))
      replies.push(info(encodeInfoString(NbdInfo.Name, exp.name)));
    if (req.requests.includes(NbdInfo.Description) && exp.description !== undefined) {
      replies.push(info(encodeInfoString(NbdInfo.Description, exp.description)));
    }
    // Sent even when not requested (proto.md allows it): a client that did not ask still learns
    // the constraints the server enforces with EINVAL.
    replies.push(info(encodeInfoBlockSize(exp.constraints)));
    replies.push(encodeOptionReply(option, NbdReply.Ack));
    if (option === NbdOption.Info) return { kind: 'continue', replies };
    return {
      kind: 'transmission',
      replies,
      export: exp,
      baseAllocation: this.baseAllocationFor === exp,
    };
  }

  private metaContext(
    option: NbdOption.ListMetaContext | NbdOption.SetMetaContext,
    data: Buffer,
  ): OptionOutcome {
    const set = option === NbdOption.SetMetaContext;
    // proto.md: SET replaces the previous selection, "including when this command fails".
    if (set) this.baseAllocationFor = undefined;
    if (!this.structuredReplies) {
      return this.fail(option, NbdReply.ErrInvalid, 'negotiate structured replies first');
    }
    const req = decodeMetaContextData(data);
    const exp = this.find(req.name);
    if (!exp) return this.fail(option, NbdReply.ErrUnknown, `no export named "${req.name}"`);
    // base:allocation is this server's only context. LIST also takes no query (everything) and
    // the "base:" wildcard; SET ignores the wildcard; unknown namespaces and leaves are ignored.
    const matches = set
      ? req.queries.includes(META_CONTEXT_BASE_ALLOCATION)
      : req.queries.length === 0 ||
        req.queries.some((q) => q === META_NAMESPACE_BASE || q === META_CONTEXT_BASE_ALLOCATION);
    const replies: Buffer[] = [];
    if (matches) {
      // proto.md: in LIST replies the context id is reserved and SHOULD be zero.
      const id = set ? BASE_ALLOCATION_CONTEXT_ID : 0;
      replies.push(
        encodeOptionReply(
          option,
          NbdReply.MetaContext,
          encodeRepMetaContext(id, META_CONTEXT_BASE_ALLOCATION),
        ),
      );
      if (set) this.baseAllocationFor = exp;
    }
    return this.ok(option, replies);
  }

  /** proto.md: options that take no data SHOULD be rejected with NBD_REP_ERR_INVALID if given some. */
  private noData(option: number, data: Buffer): void {
    if (data.length > 0) {
      throw new NbdOptionError(
        NbdReply.ErrInvalid,
        `${optionName(option)} takes no data, got ${data.length} bytes`,
      );
    }
  }

  private ok(option: number, replies: Buffer[]): OptionOutcome {
    replies.push(encodeOptionReply(option, NbdReply.Ack));
    return { kind: 'continue', replies };
  }

  private fail(option: number, reply: NbdReply, message: string): OptionOutcome {
    return {
      kind: 'continue',
      replies: [encodeOptionReply(option, reply, Buffer.from(message, 'utf8'))],
    };
  }
}
