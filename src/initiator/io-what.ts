/**
 * A data-path command's description ("Write node1 lba 8+8"), formatted only when a message needs
 * it: one small object per command instead of a string built for every I/O.
 */
export class IoWhat {
  constructor(
    private readonly op: string,
    private readonly bdev: string,
    private readonly lba: number,
    private readonly blocks: number,
  ) {}

  toString(): string {
    return `${this.op} ${this.bdev} lba ${this.lba}+${this.blocks}`;
  }
}
