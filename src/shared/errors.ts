// What an error says, whatever was thrown: `catch` gives `unknown`, and a rejected promise may
// carry a string or nothing at all. Shared by the core, the CLI and the extension.

/** The message of an Error, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
