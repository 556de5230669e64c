/** The services' rule for a new password, checked in the forms too, so they say so before sending. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
export const PASSWORD_RULE = `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`;

/** Whether a new password fits the rule; its length is counted in characters, as the services do. */
export function newPasswordFits(password: string): boolean {
  const length = [...password].length;
  return length >= PASSWORD_MIN && length <= PASSWORD_MAX;
}
