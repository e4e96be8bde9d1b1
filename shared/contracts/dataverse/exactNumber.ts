/**
 * A JSON number literal kept as written, because a binary double would not
 * reproduce it (more than 15 significant digits, or an integer beyond 2^53).
 * readDataverseJson produces these; the decoders read their text.
 */
export class ExactNumber {
  constructor(readonly text: string) {}

  toJSON(): string {
    return this.text;
  }
}
