/** Secret Manager's endpoint: the one given, else the regional one of `location`, else the global one. */
export function gcpEndpoint(apiEndpoint: string | undefined, location: string | undefined): string {
  return apiEndpoint ?? (location === undefined ? 'https://secretmanager.googleapis.com' : `https://secretmanager.${location}.rep.googleapis.com`);
}
