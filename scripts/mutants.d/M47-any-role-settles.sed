# any role granted (revoker, registrar) turns on the settler flag of the account slot: any platform key settles card sales
# file: src/TangibleLicence.sol
s/if (granted \&\& role == SETTLER_ROLE) _accounts\[account\]\.settler = true;/if (granted) _accounts[account].settler = true;/
