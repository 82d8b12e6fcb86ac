//! The registry part of the market on chain: studios, films and editions, read and written by
//! the operator on behalf of studios and platform admins.

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use tangible_chain::bindings::TangibleMarket::{self, TangibleMarketErrors};

use super::{ChainClient, ChainError, Studio};

impl ChainClient {
    /// A studio, or `None` if it was never registered.
    pub async fn studio(&self, studio_id: u32) -> Result<Option<Studio>, ChainError> {
        match self.market().studio(studio_id).call().await {
            Ok(s) => Ok(Some(Studio {
                admin: s.admin,
                royalty_recipient: s.royaltyRecipient,
                commission_bps: s.commissionBps,
                credit_cents: s.creditCents,
                name: s.name,
            })),
            Err(e) => self.absent_if(e, |r| {
                matches!(r, TangibleMarketErrors::RegistryStudioNotFound(_))
            }),
        }
    }

    /// The studio of a film, or `None` if the film was never registered.
    pub async fn film_studio(&self, film_id: u64) -> Result<Option<u32>, ChainError> {
        match self.market().film(film_id).call().await {
            Ok(f) => Ok(Some(f.studioId)),
            Err(e) => self.absent_if(e, |r| {
                matches!(r, TangibleMarketErrors::RegistryFilmNotFound(_))
            }),
        }
    }

    /// True if `account` holds the market's `DEFAULT_ADMIN_ROLE` (platform governance).
    pub async fn is_platform_admin(&self, account: Address) -> Result<bool, ChainError> {
        let m = self.market();
        let role = m
            .DEFAULT_ADMIN_ROLE()
            .call()
            .await
            .map_err(|e| self.contract_err(e))?;
        m.hasRole(role, account)
            .call()
            .await
            .map_err(|e| self.contract_err(e))
    }

    /// The commission a new studio gets and the largest one the registry accepts (bps).
    pub async fn commission_bounds(&self) -> Result<(u16, u16), ChainError> {
        let m = self.market();
        let default = m
            .DEFAULT_COMMISSION_BPS()
            .call()
            .await
            .map_err(|e| self.contract_err(e))?;
        let max = m
            .MAX_COMMISSION_BPS()
            .call()
            .await
            .map_err(|e| self.contract_err(e))?;
        Ok((default, max))
    }

    /// Registers a studio for `admin` (`registerStudio`, operator key); returns its id and tx.
    pub async fn register_studio(
        &self,
        admin: Address,
        royalty_recipient: Address,
        name: String,
    ) -> Result<(u32, B256), ChainError> {
        let market = self.market();
        let receipt = self
            .send_receipt(
                "registerStudio",
                market.registerStudio(admin, royalty_recipient, name),
            )
            .await?;
        let ev: TangibleMarket::StudioRegistered = self.event(&receipt)?;
        Ok((ev.studioId, receipt.transaction_hash))
    }

    /// The studios registered for `admin` from block `from` on (`StudioRegistered` events, by
    /// their indexed admin): id, transaction, name as registered; oldest first.
    pub async fn studios_registered_for(
        &self,
        admin: Address,
        from: u64,
    ) -> Result<Vec<(u32, B256, String)>, ChainError> {
        let filter = Filter::new()
            .address(self.deployment.contracts.market)
            .event_signature(TangibleMarket::StudioRegistered::SIGNATURE_HASH)
            .topic2(admin.into_word())
            .from_block(from.max(self.deployment.deployment_block));
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| self.rpc_err(e))?;
        Ok(logs
            .iter()
            .filter_map(|l| {
                let ev = l.log_decode::<TangibleMarket::StudioRegistered>().ok()?;
                Some((
                    ev.inner.data.studioId,
                    l.transaction_hash?,
                    ev.inner.data.name,
                ))
            })
            .collect())
    }

    /// Sets a studio's primary commission (`setStudioCommission`, operator key).
    pub async fn set_studio_commission(
        &self,
        studio_id: u32,
        commission_bps: u16,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "setStudioCommission",
            market.setStudioCommission(studio_id, commission_bps),
        )
        .await
    }

    /// Registers a film of `studio_id` (`registerFilm`, operator key); returns its id and tx.
    pub async fn register_film(
        &self,
        studio_id: u32,
        title: String,
        year: u16,
    ) -> Result<(u64, B256), ChainError> {
        let market = self.market();
        let receipt = self
            .send_receipt("registerFilm", market.registerFilm(studio_id, title, year))
            .await?;
        let ev: TangibleMarket::FilmRegistered = self.event(&receipt)?;
        Ok((ev.filmId, receipt.transaction_hash))
    }

    /// Registers an edition, active (`registerEdition`, operator key).
    pub async fn register_edition(
        &self,
        film_id: u64,
        quality: u8,
        master_hash: B256,
        price_cents: u64,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "registerEdition",
            market.registerEdition(film_id, quality, master_hash, price_cents),
        )
        .await
    }

    /// Changes an edition's master hash and price (`updateEdition`, operator key); `reason` is
    /// recorded on chain when the master hash changes.
    pub async fn update_edition(
        &self,
        film_id: u64,
        quality: u8,
        master_hash: B256,
        price_cents: u64,
        reason: String,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "updateEdition",
            market.updateEdition(film_id, quality, master_hash, price_cents, reason),
        )
        .await
    }

    /// Sets an edition's resale floor, cents (operator key, on the studio admin's behalf).
    pub async fn set_resale_floor(
        &self,
        film_id: u64,
        quality: u8,
        floor_cents: u64,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        self.send(
            "setResaleFloor",
            market.setResaleFloor(film_id, quality, floor_cents),
        )
        .await
    }

    /// Withdraws (`active = false`) or reactivates an edition (operator key).
    pub async fn set_edition_active(
        &self,
        film_id: u64,
        quality: u8,
        active: bool,
    ) -> Result<B256, ChainError> {
        let market = self.market();
        if active {
            self.send(
                "reactivateEdition",
                market.reactivateEdition(film_id, quality),
            )
            .await
        } else {
            self.send("withdrawEdition", market.withdrawEdition(film_id, quality))
                .await
        }
    }
}
