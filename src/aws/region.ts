/**
 * The AWS region: the option, else the `AWS_REGION` variable, else `AWS_DEFAULT_REGION` (an empty
 * variable counts as unset, as in the AWS SDKs); undefined when none is set.
 */
export function awsRegion(region: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return region ?? (env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined);
}
