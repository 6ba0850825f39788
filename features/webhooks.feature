@webhooks
Feature: The app's Clerk webhook handler
  Clerk delivers events signed like Svix / Standard Webhooks: svix-id, svix-timestamp and
  svix-signature ("v1," + base64 HMAC-SHA256 of "id.timestamp.body" with the endpoint's whsec_ secret).
  The app verifies each delivery before applying it (verifyWebhook), refuses anything it cannot verify with a
  4xx and applies nothing, refuses deliveries older than 5 minutes, and applies a delivery (one svix-id) once.
  The profile's [webhooks] section names the handler and a probe that tells whether the app holds a user.

  @WH-001
  Scenario: A user created and deleted at Clerk reaches the app through Clerk's own deliveries
    Given Clerk delivers its webhooks to the app
    When a user is created at Clerk
    Then the app holds that user
    When that user is deleted at Clerk
    Then the app does not hold that user

  @WH-101
  Scenario: A correctly signed event is accepted and applied
    When Clerk sends user.created for a new user
    Then the app accepted it
    And the app holds that user
    When Clerk sends user.deleted for that user
    Then the app accepted it
    And the app does not hold that user

  @WH-102
  Scenario: A body changed after signing is refused and not applied
    When Clerk sends user.created for a new user with a tampered body
    Then the app refused it with a 4xx status
    And the app does not hold that user

  @WH-103
  Scenario: A delivery signed with another secret is refused and not applied
    When Clerk sends user.created for a new user signed with another secret
    Then the app refused it with a 4xx status
    And the app does not hold that user

  @WH-104
  Scenario: A delivery stamped more than 5 minutes ago is refused and not applied
    When Clerk sends user.created for a new user stamped 6 minutes ago
    Then the app refused it with a 4xx status
    And the app does not hold that user

  @WH-105
  Scenario: A delivery sent again after the user was deleted is refused and not applied again
    When Clerk sends user.created for a new user
    And Clerk sends user.deleted for that user
    Then the app does not hold that user
    When the first delivery is sent again
    Then the app refused it with a 4xx status
    And the app does not hold that user

  @WH-106
  Scenario Outline: A delivery without its <header> header is refused and not applied
    When Clerk sends user.created for a new user without its <header> header
    Then the app refused it with a 4xx status
    And the app does not hold that user

    Examples:
      | header         |
      | svix-id        |
      | svix-timestamp |
      | svix-signature |
