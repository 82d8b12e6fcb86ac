# the settler role, not the registrar role, acts for studios in the registry (roles mixed up)
# file: src/TangibleRegistry.sol
s/if (_studioAdmins\[studioId\] != msg\.sender \&\& !hasRole(REGISTRAR_ROLE, msg\.sender)) {/if (_studioAdmins[studioId] != msg.sender \&\& !hasRole(SETTLER_ROLE, msg.sender)) {/
