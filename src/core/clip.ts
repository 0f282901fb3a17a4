/** `text` cut to at most `max` characters, its end marked with … when it was cut (so a reader knows there was more). */
export const clipped = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
