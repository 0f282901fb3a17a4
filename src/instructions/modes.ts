/**
 * What the supervisor writes into a project's checkout (CLAUDE.md, AGENTS.md, .mcp.json, layer
 * files and their folders) is instructions, not secrets: readable by the agents' users and by git.
 * A file it replaces keeps its own mode.
 */
export const CHECKOUT_FILE_MODE = 0o644;
export const CHECKOUT_DIR_MODE = 0o755;
