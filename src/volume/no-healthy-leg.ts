/**
 * The answer of a mirror request that finds no leg to go to, shared by the read path
 * (mirror-reader.ts) and the change path (mirror-writer.ts) so both fail alike.
 */
import { GenericStatus, NvmeStatusError, StatusCodeType } from '../bdev/index.js';

/** Namespace Not Ready with DNR clear (NVM CS 1.0, Figure 15): a leg may come back. */
export function noHealthyLeg(volume: string, what: string): NvmeStatusError {
  return new NvmeStatusError(
    StatusCodeType.Generic,
    GenericStatus.NamespaceNotReady,
    `${volume}: ${what} has no healthy leg to go to`,
    false,
  );
}
