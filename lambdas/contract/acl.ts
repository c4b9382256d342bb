/**
 * The ACL vocabulary of AWS account containers: the action names CCKM uses for AWS, which the
 * route table puts on `acl` routes and `update-acls` accepts. Plain data.
 */

/** ACL action names used by CCKM for AWS (the README lists them under "Conventions"). */
export type AclAction =
  | 'viewkeystore' | 'keystoreadd' | 'keystoreupdate' | 'keystoredelete' | 'keystoreblock' | 'keystoreunblock'
  | 'keystoreconnect' | 'keystoredisconnect' | 'keystorelink'
  | 'viewhyokkey' | 'hyokkeycreate' | 'hyokkeyblockunblock' | 'hyokkeydelete' | 'hyokkeylink'
  | 'keycreate' | 'keyupload' | 'keyupdate' | 'keyrotate' | 'keydelete' | 'keycanceldelete' | 'keysynchronize'
  | 'keymaterialimport' | 'keymaterialdelete' | 'viewnative' | 'viewbyok'
  | 'viewcloudhsmkey' | 'cloudhsmkeycreate' | 'cloudhsmkeydelete';

export const ACL_ACTIONS: readonly AclAction[] = [
  'viewkeystore', 'keystoreadd', 'keystoreupdate', 'keystoredelete', 'keystoreblock', 'keystoreunblock',
  'keystoreconnect', 'keystoredisconnect', 'keystorelink',
  'viewhyokkey', 'hyokkeycreate', 'hyokkeyblockunblock', 'hyokkeydelete', 'hyokkeylink',
  'keycreate', 'keyupload', 'keyupdate', 'keyrotate', 'keydelete', 'keycanceldelete', 'keysynchronize',
  'keymaterialimport', 'keymaterialdelete', 'viewnative', 'viewbyok',
  'viewcloudhsmkey', 'cloudhsmkeycreate', 'cloudhsmkeydelete',
];

/**
 * The kinds of AWS keys the key manager knows (`/v1/cckm/aws/keys`): HYOK keys in its external key
 * stores, native keys found by synchronization, keys uploaded to AWS KMS (BYOK), and keys in
 * CloudHSM key stores. Each kind has its own view action (AWS_KEY_VIEW_ACTIONS).
 */
export type AwsKeyKind = 'hyok' | 'native' | 'byok' | 'cloudhsm';

export const AWS_KEY_VIEW_ACTIONS: Readonly<Record<AwsKeyKind, AclAction>> = {
  hyok: 'viewhyokkey',
  native: 'viewnative',
  byok: 'viewbyok',
  cloudhsm: 'viewcloudhsmkey',
};
