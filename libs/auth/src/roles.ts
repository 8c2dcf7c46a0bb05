import type { JWTPayload } from 'jose';

export const ADMIN_ROLE = 'admin';

/** A token is an admin's when its `role` claim is `admin` or its `roles` claim contains it. */
export function isAdmin(claims: JWTPayload): boolean {
  const { role, roles } = claims as { role?: unknown; roles?: unknown };
  return role === ADMIN_ROLE || (Array.isArray(roles) && roles.includes(ADMIN_ROLE));
}
