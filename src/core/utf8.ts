/**
 * Bytes as UTF-8 text, or undefined when they are not UTF-8. Buffer's own decoding puts U+FFFD
 * in place of each bad byte, so a file or a value would be stored or copied altered without a word.
 * A byte-order mark is kept: whoever strips it decides.
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
