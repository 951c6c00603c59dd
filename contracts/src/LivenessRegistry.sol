// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title LivenessRegistry
/// @notice Storage commitments of a hearth data collective's contributors who keep their data on their own
/// server, the collective node's per-epoch challenge results, and the rewards that passes earn.
///
/// A contributor registers a contribution: the sha256 of its ciphertext, the ciphertext split into
/// `chunkCount` chunks of `chunkSize` bytes (the last may be shorter), and the Merkle root over the chunks
/// (OpenZeppelin's sorted-pair tree, leaf `chunkLeaf(index, sha256(chunk))`). Time is cut into epochs of
/// `epochSeconds` from deployment. In each epoch the challenger (the collective node) opens the epoch,
/// which fixes its challenge seed, asks each contributor for the chunks `challengeChunk` names with their
/// proofs, and records a pass or a fail once per contribution. A pass accrues `rewardPerPass` of the reward
/// token; contributors claim what they accrued from the tokens this contract holds.
/// @dev Epochs count block timestamps, not block numbers: the embedded chain mines only when a transaction
/// arrives. The seed is fixed by the challenger's `openEpoch` transaction from the hash of the block before
/// it (and `prevrandao`), then stored, so it stays readable after the 256 blocks `blockhash` covers.
contract LivenessRegistry {
    using SafeERC20 for IERC20;

    /// @notice One registered contribution.
    /// @param contributor Who registered it and earns its rewards.
    /// @param merkleRoot Root of the tree over its chunks.
    /// @param ciphertextSha256 sha256 of the whole ciphertext.
    /// @param chunkCount Number of chunks.
    /// @param chunkSize Bytes per chunk (the last chunk may be shorter).
    /// @param registeredEpoch The epoch it was registered in (results count from then on).
    /// @param registeredAt When it was registered (unix seconds).
    struct Contribution {
        address contributor;
        bytes32 merkleRoot;
        bytes32 ciphertextSha256;
        uint64 chunkCount;
        uint32 chunkSize;
        uint64 registeredEpoch;
        uint64 registeredAt;
    }

    /// @notice A challenge result.
    enum Result {
        None,
        Passed,
        Failed
    }

    /// @notice Largest chunk, in bytes.
    uint32 public constant MAX_CHUNK_BYTES = 16 * 1024 * 1024;
    /// @notice Most chunks in one contribution (so a proof has at most 32 hashes).
    uint64 public constant MAX_CHUNKS = 2 ** 32;
    /// @notice Most hashes in a Merkle proof that `verifyChunk` accepts.
    uint256 public constant MAX_PROOF_HASHES = 32;
    /// @notice Longest epoch, in seconds.
    uint64 public constant MAX_EPOCH_SECONDS = 366 days;
    /// @notice How many epochs after its own a result may still be recorded.
    uint64 public constant RESULT_LATE_EPOCHS_MAX = 1;

    /// @notice The only account that opens epochs and records results (the collective node).
    address public immutable challenger;
    /// @notice Length of an epoch, in seconds.
    uint64 public immutable epochSeconds;
    /// @notice Start of epoch 0 (unix seconds): the deployment's block time.
    uint64 public immutable startTime;
    /// @notice The ERC-20 rewards are paid in.
    IERC20 public immutable rewardToken;
    /// @notice What one pass earns, in the reward token's smallest unit.
    uint256 public immutable rewardPerPass;

    Contribution[] private _contributions;
    mapping(uint64 epoch => bytes32) private _seeds;
    mapping(uint256 id => mapping(uint64 epoch => Result)) private _results;
    mapping(address contributor => uint256) private _rewards;
    uint256 private _outstanding;

    /// @notice A contribution was registered.
    /// @param id Its id (from 1).
    /// @param contributor Who registered it.
    /// @param merkleRoot Root over its chunks.
    /// @param ciphertextSha256 sha256 of the ciphertext.
    /// @param chunkCount Number of chunks.
    /// @param chunkSize Bytes per chunk.
    event ContributionRegistered(
        uint256 indexed id,
        address indexed contributor,
        bytes32 merkleRoot,
        bytes32 ciphertextSha256,
        uint64 chunkCount,
        uint32 chunkSize
    );
    /// @notice The challenger opened an epoch, fixing its seed.
    /// @param epoch The epoch.
    /// @param seed Its challenge seed.
    event EpochOpened(uint64 indexed epoch, bytes32 seed);
    /// @notice The challenger recorded a result.
    /// @param id The contribution.
    /// @param epoch The epoch.
    /// @param contributor The contribution's contributor.
    /// @param passed Whether it passed.
    /// @param reward What it accrued (zero for a fail).
    event ResultRecorded(
        uint256 indexed id, uint64 indexed epoch, address indexed contributor, bool passed, uint256 reward
    );
    /// @notice A contributor claimed its rewards.
    /// @param contributor The contributor (and receiver).
    /// @param amount The amount paid.
    event RewardClaimed(address indexed contributor, uint256 amount);

    /// @notice A constructor address is zero.
    error ZeroAddress();
    /// @notice The epoch length is zero or over `MAX_EPOCH_SECONDS`.
    /// @param epochSeconds The length given.
    error InvalidEpochLength(uint64 epochSeconds);
    /// @notice The caller is not the challenger.
    /// @param caller The caller.
    error NotChallenger(address caller);
    /// @notice The Merkle root or the ciphertext hash is zero.
    error ZeroCommitment();
    /// @notice The chunk count is zero or over `MAX_CHUNKS`.
    /// @param chunkCount The count given.
    error InvalidChunkCount(uint64 chunkCount);
    /// @notice The chunk size is zero or over `MAX_CHUNK_BYTES`.
    /// @param chunkSize The size given.
    error InvalidChunkSize(uint32 chunkSize);
    /// @notice No contribution has this id.
    /// @param id The id.
    error UnknownContribution(uint256 id);
    /// @notice The epoch was opened already.
    /// @param epoch The epoch.
    error EpochAlreadyOpen(uint64 epoch);
    /// @notice The epoch was not opened (yet or ever), so it has no seed.
    /// @param epoch The epoch.
    error EpochNotOpen(uint64 epoch);
    /// @notice Results for this epoch can no longer be recorded.
    /// @param epoch The epoch.
    /// @param current The current epoch.
    error EpochClosed(uint64 epoch, uint64 current);
    /// @notice The contribution was registered after this epoch.
    /// @param id The contribution.
    /// @param epoch The epoch.
    error NotRegisteredInEpoch(uint256 id, uint64 epoch);
    /// @notice A result for this contribution and epoch was recorded already.
    /// @param id The contribution.
    /// @param epoch The epoch.
    error AlreadyRecorded(uint256 id, uint64 epoch);
    /// @notice The caller has no rewards to claim.
    error NothingToClaim();
    /// @notice This contract holds fewer reward tokens than the claim; the rewards stay accrued.
    /// @param balance The tokens held.
    /// @param amount The claim.
    error InsufficientRewardFunds(uint256 balance, uint256 amount);

    modifier onlyChallenger() {
        if (msg.sender != challenger) revert NotChallenger(msg.sender);
        _;
    }

    /// @notice Deploys the registry; epoch 0 starts now.
    /// @param challenger_ The collective node's address.
    /// @param epochSeconds_ Epoch length in seconds.
    /// @param rewardToken_ The ERC-20 rewards are paid in (the collective's MembershipToken).
    /// @param rewardPerPass_ What one pass earns.
    constructor(address challenger_, uint64 epochSeconds_, IERC20 rewardToken_, uint256 rewardPerPass_) {
        if (challenger_ == address(0) || address(rewardToken_) == address(0)) revert ZeroAddress();
        if (epochSeconds_ == 0 || epochSeconds_ > MAX_EPOCH_SECONDS) revert InvalidEpochLength(epochSeconds_);
        challenger = challenger_;
        epochSeconds = epochSeconds_;
        startTime = uint64(block.timestamp);
        rewardToken = rewardToken_;
        rewardPerPass = rewardPerPass_;
    }

    /// @notice Registers a contribution of the caller. Returns its id (from 1).
    /// @param merkleRoot Root over the chunk leaves.
    /// @param ciphertextSha256 sha256 of the ciphertext.
    /// @param chunkCount Number of chunks, 1 to `MAX_CHUNKS`.
    /// @param chunkSize Bytes per chunk, 1 to `MAX_CHUNK_BYTES`.
    /// @return id The contribution's id.
    function register(bytes32 merkleRoot, bytes32 ciphertextSha256, uint64 chunkCount, uint32 chunkSize)
        external
        returns (uint256 id)
    {
        if (merkleRoot == bytes32(0) || ciphertextSha256 == bytes32(0)) revert ZeroCommitment();
        if (chunkCount == 0 || chunkCount > MAX_CHUNKS) revert InvalidChunkCount(chunkCount);
        if (chunkSize == 0 || chunkSize > MAX_CHUNK_BYTES) revert InvalidChunkSize(chunkSize);
        _contributions.push(
            Contribution({
                contributor: msg.sender,
                merkleRoot: merkleRoot,
                ciphertextSha256: ciphertextSha256,
                chunkCount: chunkCount,
                chunkSize: chunkSize,
                registeredEpoch: currentEpoch(),
                registeredAt: uint64(block.timestamp)
            })
        );
        id = _contributions.length;
        emit ContributionRegistered(id, msg.sender, merkleRoot, ciphertextSha256, chunkCount, chunkSize);
    }

    /// @notice Opens the current epoch: fixes and stores its challenge seed. Only the challenger, once per epoch.
    /// @return epoch The epoch opened.
    /// @return seed Its seed.
    function openEpoch() external onlyChallenger returns (uint64 epoch, bytes32 seed) {
        epoch = currentEpoch();
        if (_seeds[epoch] != bytes32(0)) revert EpochAlreadyOpen(epoch);
        seed = keccak256(abi.encode(blockhash(block.number - 1), block.prevrandao, epoch, address(this)));
        _seeds[epoch] = seed;
        emit EpochOpened(epoch, seed);
    }

    /// @notice Records whether contribution `id` passed its challenge of `epoch`. Only the challenger, once per
    /// contribution and epoch, for an open epoch that is current or at most `RESULT_LATE_EPOCHS_MAX` behind.
    /// @param id The contribution.
    /// @param epoch The epoch.
    /// @param passed Whether it passed.
    function recordResult(uint256 id, uint64 epoch, bool passed) external onlyChallenger {
        Contribution storage c = _contribution(id);
        if (_seeds[epoch] == bytes32(0)) revert EpochNotOpen(epoch);
        uint64 current = currentEpoch();
        if (epoch + RESULT_LATE_EPOCHS_MAX < current) revert EpochClosed(epoch, current);
        if (epoch < c.registeredEpoch) revert NotRegisteredInEpoch(id, epoch);
        if (_results[id][epoch] != Result.None) revert AlreadyRecorded(id, epoch);
        _results[id][epoch] = passed ? Result.Passed : Result.Failed;
        uint256 reward = passed ? rewardPerPass : 0;
        if (reward != 0) {
            _rewards[c.contributor] += reward;
            _outstanding += reward;
        }
        emit ResultRecorded(id, epoch, c.contributor, passed, reward);
    }

    /// @notice Pays the caller everything it accrued, in the reward token.
    /// @return amount The amount paid.
    function claim() external returns (uint256 amount) {
        amount = _rewards[msg.sender];
        if (amount == 0) revert NothingToClaim();
        uint256 balance = rewardToken.balanceOf(address(this));
        if (balance < amount) revert InsufficientRewardFunds(balance, amount);
        _rewards[msg.sender] = 0;
        _outstanding -= amount;
        emit RewardClaimed(msg.sender, amount);
        rewardToken.safeTransfer(msg.sender, amount);
    }

    /// @notice The epoch now.
    /// @return The current epoch (from 0).
    function currentEpoch() public view returns (uint64) {
        return (uint64(block.timestamp) - startTime) / epochSeconds;
    }

    /// @notice The challenge seed of an opened epoch.
    /// @param epoch The epoch.
    /// @return The seed.
    function challengeSeed(uint64 epoch) public view returns (bytes32) {
        bytes32 seed = _seeds[epoch];
        if (seed == bytes32(0)) revert EpochNotOpen(epoch);
        return seed;
    }

    /// @notice The index of the `i`-th chunk challenged for contribution `id` in `epoch`:
    /// `uint256(keccak256(abi.encode(seed, id, i))) % chunkCount`.
    /// @param id The contribution.
    /// @param epoch An opened epoch.
    /// @param i Which challenge of the epoch (from 0; the challenger decides how many).
    /// @return The chunk index.
    function challengeChunk(uint256 id, uint64 epoch, uint256 i) external view returns (uint64) {
        Contribution storage c = _contribution(id);
        return uint64(uint256(keccak256(abi.encode(challengeSeed(epoch), id, i))) % c.chunkCount);
    }

    /// @notice The Merkle leaf of chunk `index` whose bytes hash to `chunkSha256`:
    /// `keccak256(bytes.concat(keccak256(abi.encode(index, chunkSha256))))`.
    /// @param index The chunk's index.
    /// @param chunkSha256 sha256 of the chunk's bytes.
    /// @return The leaf.
    function chunkLeaf(uint64 index, bytes32 chunkSha256) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, chunkSha256))));
    }

    /// @notice Whether `proof` shows chunk `index` with hash `chunkSha256` under contribution `id`'s root.
    /// @param id The contribution.
    /// @param index The chunk's index.
    /// @param chunkSha256 sha256 of the chunk's bytes.
    /// @param proof Sibling hashes from the leaf up, at most `MAX_PROOF_HASHES`.
    /// @return Whether it verifies.
    function verifyChunk(uint256 id, uint64 index, bytes32 chunkSha256, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Contribution storage c = _contribution(id);
        if (index >= c.chunkCount || proof.length > MAX_PROOF_HASHES) return false;
        return MerkleProof.verifyCalldata(proof, c.merkleRoot, chunkLeaf(index, chunkSha256));
    }

    /// @notice A contribution.
    /// @param id Its id.
    /// @return The record.
    function getContribution(uint256 id) external view returns (Contribution memory) {
        return _contribution(id);
    }

    /// @notice How many contributions were registered (ids run from 1 to this).
    /// @return The count.
    function contributionCount() external view returns (uint256) {
        return _contributions.length;
    }

    /// @notice The result recorded for contribution `id` in `epoch`.
    /// @param id The contribution.
    /// @param epoch The epoch.
    /// @return None, Passed or Failed.
    function resultOf(uint256 id, uint64 epoch) external view returns (Result) {
        return _results[id][epoch];
    }

    /// @notice What `contributor` accrued and has not claimed.
    /// @param contributor The contributor.
    /// @return The amount.
    function rewards(address contributor) external view returns (uint256) {
        return _rewards[contributor];
    }

    /// @notice Everything accrued and not claimed, by all contributors (what this contract should hold).
    /// @return The amount.
    function outstandingRewards() external view returns (uint256) {
        return _outstanding;
    }

    function _contribution(uint256 id) private view returns (Contribution storage) {
        if (id == 0 || id > _contributions.length) revert UnknownContribution(id);
        return _contributions[id - 1];
    }
}
