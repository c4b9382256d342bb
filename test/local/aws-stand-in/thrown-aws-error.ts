/** The AwsError type (`ValidationException`, ...) a synchronous call throws, or undefined when it returns. */
export function thrownType(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { type?: string }).type;
  }
  return undefined;
}
