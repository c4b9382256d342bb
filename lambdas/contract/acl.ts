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
