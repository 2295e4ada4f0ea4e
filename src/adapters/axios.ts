import type { AxiosError, AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import type { SecretsClient } from '../client.js';
import type { HandleOrRef } from './credential.js';
import { tokenAuth, type HttpAuthOptions } from './http.js';

/** Marks a request sent again after a 401, so it is not retried twice. */
const RETRIED = Symbol.for('connector-secrets.adapters.axios.retried');

/**
 * Installs axios interceptors on `instance`: each request gets `Authorization: Bearer <token>`
 * from a token handle, and a 401 answer refreshes the token once through `withCredential` and
 * sends the request again (once). Returns a function that removes both interceptors.
 *
 * @param instance - The axios instance (`axios.create(...)`).
 * @param source - A token handle (text, or JSON with `token` / `access_token`), or a ref to make one from.
 * @param secrets - The client that makes the handle.
 * @param options - The header and scheme.
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const remove = axiosAuth(api, 'vault://kv/prod/orders-api#token', secrets);
 * const { data } = await api.get('/orders');
 * ```
 */
export function axiosAuth(instance: AxiosInstance, source: HandleOrRef, secrets: Pick<SecretsClient, 'handle'>, options: HttpAuthOptions = {}): () => void {
  const auth = tokenAuth(source, secrets, options);
  const request = instance.interceptors.request.use(async (config: InternalAxiosRequestConfig) => {
    config.headers.set(auth.header, auth.value(await auth.handle.get()));
    return config;
  });
  const response = instance.interceptors.response.use(undefined, async (error: AxiosError) => {
    const config = error.config as (InternalAxiosRequestConfig & { [RETRIED]?: boolean }) | undefined;
    if (error.response?.status !== 401 || config === undefined || config[RETRIED] === true) throw error;
    let first = true;
    // withCredential sees the 401 as an auth error: it refreshes the token once, then calls again;
    // the request interceptor puts the new token on the retry.
    return auth.handle.withCredential(() => {
      if (first) {
        first = false;
        throw error;
      }
      config[RETRIED] = true;
      return instance.request(config);
    });
  });
  return () => {
    instance.interceptors.request.eject(request);
    instance.interceptors.response.eject(response);
  };
}
