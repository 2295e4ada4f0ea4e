import type { AuthClient } from 'google-auth-library';
import type { CredentialHandle } from '../handles/CredentialHandle.js';
import type { GoogleAuthLibrary } from './loadGoogleAuth.js';

/**
 * A google-auth-library `AuthClient` that hands out a handle's token: every request asks the
 * handle (which refreshes ahead of expiry with jitter), and a request refused with 401 or 403
 * forces one refresh through the handle and is repeated once. The client keeps no token of its
 * own, so many clients over one handle cause no extra token calls.
 */
export function handleAuthClient(lib: GoogleAuthLibrary, handle: CredentialHandle<string>): AuthClient {
  class HandleAuthClient extends lib.OAuth2Client {
    constructor() {
      super({ forceRefreshOnFailure: true });
      this.refreshHandler = async () => {
        const token = await handle.refresh();
        return { access_token: token.reveal(), expiry_date: handle.expiresAt ?? 0 };
      };
    }

    override async getAccessToken(): Promise<{ token: string }> {
      return { token: (await handle.get()).reveal() };
    }

    protected override async getRequestMetadataAsync(): Promise<{ headers: Headers }> {
      const token = (await handle.get()).reveal();
      // requestAsync reads these to decide on its one retry after a 401.
      this.credentials = { access_token: token, token_type: 'Bearer', expiry_date: handle.expiresAt ?? 0 };
      return { headers: this.addSharedMetadataHeaders(new Headers({ authorization: `Bearer ${token}` })) };
    }
  }
  return new HandleAuthClient();
}
