{
  description = "Cook — a self-hosted software factory for agent-driven development";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in {
      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.nodejs_20
            pkgs.git
            pkgs.nats-server
            pkgs.postgresql_15
          ] ++ pkgs.lib.optionals pkgs.stdenv.isLinux [ pkgs.chromium pkgs.bubblewrap ];
          # The browser tests look for Chromium at /usr/bin/chromium unless told otherwise.
          shellHook = pkgs.lib.optionalString pkgs.stdenv.isLinux ''
            export COOK_TEST_CHROMIUM="${pkgs.chromium}/bin/chromium"
          '';
        };
      });
    };
}
