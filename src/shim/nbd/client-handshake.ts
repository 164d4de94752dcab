/**
 * The client side of the fixed newstyle handshake (proto.md "Fixed newstyle negotiation"):
 * client flags, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT base:allocation, then
 * NBD_OPT_GO asking for the block size constraints; NBD_OPT_EXPORT_NAME only for a server that
 * answers NBD_OPT_GO with NBD_REP_ERR_UNSUP. Speaks through a small I/O interface so that it
 * owns no socket.
 */
import {
  decodeExportNameReply,
  decodeGreeting,
  decodeInfo,
  decodeOptionReplyHeader,
  decodeRepMetaContext,
  encodeClientFlags,
  encodeGoData,
  encodeMetaContextData,
  encodeOption,
  type BlockSizeConstraints,
} from './handshake-codec.js';
import { NbdProtocolError } from './nbd-error.js';
import { FrameKind, type Frame } from './nbd-framer.js';
import { optionName } from './option-negotiator.js';
import {
  ClientFlag,
  HandshakeFlag,
  META_CONTEXT_BASE_ALLOCATION,
  NbdInfo,
  NbdOption,
  NbdReply,
  REP_ERROR_BIT,
} from './protocol.js';

export interface HandshakeIo {
  /** Sets the kind of the next frames before the message that provokes them is sent. */
  expect(kind: FrameKind): void;
  send(message: Buffer): void;
  next(): Promise<Frame>;
}

export interface NegotiatedExport {
  /** Export size in bytes. */
  size: number;
  transmissionFlags: number;
  structuredReplies: boolean;
  /** Context id of base:allocation when the server selected it. */
  baseAllocationId: number | undefined;
  /** NBD_INFO_BLOCK_SIZE, when the server sent it. */
  constraints: BlockSizeConstraints | undefined;
  /** Canonical export name (NBD_INFO_NAME) or the name asked for. */
  name: string;
  description: string | undefined;
}

const REPLY_NAMES: Record<number, string> = {
  [NbdReply.ErrUnsup]: 'NBD_REP_ERR_UNSUP',
  [NbdReply.ErrPolicy]: 'NBD_REP_ERR_POLICY',
  [NbdReply.ErrInvalid]: 'NBD_REP_ERR_INVALID',
  [NbdReply.ErrPlatform]: 'NBD_REP_ERR_PLATFORM',
  [NbdReply.ErrTlsReqd]: 'NBD_REP_ERR_TLS_REQD',
  [NbdReply.ErrUnknown]: 'NBD_REP_ERR_UNKNOWN',
  [NbdReply.ErrShutdown]: 'NBD_REP_ERR_SHUTDOWN',
  [NbdReply.ErrBlockSizeReqd]: 'NBD_REP_ERR_BLOCK_SIZE_REQD',
  [NbdReply.ErrTooBig]: 'NBD_REP_ERR_TOO_BIG',
};

interface OptionReply {
  reply: number;
  data: Buffer;
}

/** Sends one option and reads replies up to its final one (ACK or an error). */
async function* exchange(
  io: HandshakeIo,
  option: number,
  data?: Buffer,
): AsyncGenerator<OptionReply> {
  io.expect(FrameKind.OptionReply);
  io.send(encodeOption(option, data));
  while (true) {
    const frame = await io.next();
    const h = decodeOptionReplyHeader(frame.header);
    if (h.option !== option) {
      throw new NbdProtocolError(
        'NBD_ERR_UNEXPECTED_REPLY',
        `reply for ${optionName(h.option)} while waiting for ${optionName(option)}`,
      );
    }
    yield { reply: h.reply, data: frame.payload };
    if (h.reply === NbdReply.Ack || h.reply & REP_ERROR_BIT) return;
  }
}

const isError = (reply: number) => (reply & REP_ERROR_BIT) !== 0;

function replyError(option: number, r: OptionReply): NbdProtocolError {
  const name = REPLY_NAMES[r.reply] ?? `reply 0x${r.reply.toString(16)}`;
  const msg = r.data.length ? `: ${r.data.toString('utf8')}` : '';
  return new NbdProtocolError(
    'NBD_ERR_NEGOTIATION',
    `${optionName(option)} failed with ${name}${msg}`,
  );
}

export async function clientHandshake(
  io: HandshakeIo,
  exportName: string,
): Promise<NegotiatedExport> {
  io.expect(FrameKind.Greeting);
  const serverFlags = decodeGreeting((await io.next()).header);
  if (!(serverFlags & HandshakeFlag.FixedNewstyle)) {
    throw new NbdProtocolError('NBD_ERR_NEGOTIATION', 'server does not speak fixed newstyle NBD');
  }
  const noZeroes = (serverFlags & HandshakeFlag.NoZeroes) !== 0;
  io.send(encodeClientFlags(ClientFlag.FixedNewstyle | (noZeroes ? ClientFlag.NoZeroes : 0)));

  let structuredReplies = false;
  for await (const r of exchange(io, NbdOption.StructuredReply)) {
    structuredReplies = r.reply === NbdReply.Ack;
  }

  let baseAllocationId: number | undefined;
  if (structuredReplies) {
    const data = encodeMetaContextData({
      name: exportName,
      queries: [META_CONTEXT_BASE_ALLOCATION],
    });
    for await (const r of exchange(io, NbdOption.SetMetaContext, data)) {
      if (r.reply !== NbdReply.MetaContext) continue; // an error just means no block status
      const ctx = decodeRepMetaContext(r.data);
      if (ctx.name === META_CONTEXT_BASE_ALLOCATION) baseAllocationId = ctx.id;
    }
  }

  const negotiated: NegotiatedExport = {
    size: -1,
    transmissionFlags: 0,
    structuredReplies,
    baseAllocationId,
    constraints: undefined,
    name: exportName,
    description: undefined,
  };
  const go = encodeGoData({
    name: exportName,
    requests: [NbdInfo.BlockSize, NbdInfo.Name, NbdInfo.Description],
  });
  for await (const r of exchange(io, NbdOption.Go, go)) {
    if (r.reply === NbdReply.ErrUnsup)
      return exportNameFallback(io, exportName, negotiated, noZeroes);
    if (isError(r.reply)) throw replyError(NbdOption.Go, r);
    if (r.reply !== NbdReply.Info) continue;
    const info = decodeInfo(r.data);
    if (info.type === NbdInfo.Export) {
      negotiated.size = info.size;
      negotiated.transmissionFlags = info.transmissionFlags;
    } else if (info.type === NbdInfo.Name) negotiated.name = info.text;
    else if (info.type === NbdInfo.Description) negotiated.description = info.text;
    else if (info.type === NbdInfo.BlockSize) {
      negotiated.constraints = {
        minimum: info.minimum,
        preferred: info.preferred,
        maximum: info.maximum,
      };
    }
  }
  if (negotiated.size < 0) {
    // proto.md: the server MUST send NBD_INFO_EXPORT before NBD_REP_ACK.
    throw new NbdProtocolError('NBD_ERR_BAD_REPLY', 'NBD_OPT_GO succeeded without NBD_INFO_EXPORT');
  }
  return negotiated;
}

/** Old servers: NBD_OPT_EXPORT_NAME, which has no error reply (unknown export = hang up). */
async function exportNameFallback(
  io: HandshakeIo,
  exportName: string,
  negotiated: NegotiatedExport,
  noZeroes: boolean,
): Promise<NegotiatedExport> {
  io.expect(noZeroes ? FrameKind.ExportNameReplyNoZeroes : FrameKind.ExportNameReply);
  io.send(encodeOption(NbdOption.ExportName, Buffer.from(exportName, 'utf8')));
  const reply = decodeExportNameReply((await io.next()).header);
  return { ...negotiated, ...reply };
}
