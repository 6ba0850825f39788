# Browser scenarios (a real Chromium, clerk-js and Clerk's UI against the Frontend API). Serial: each runs its
# own browser, and the CPU is shared with the app.
@client @client-mfa @serial
Feature: Second factor in the browser
  The <SignIn/> component handles the entire authentication flow, MFA included: "SMS codes and
  authenticator apps (TOTP)", and backup codes. A user with a second factor passes it after the password,
  and only then holds a session.

  @CL-501
  Scenario: Completing the second factor with an authenticator app
    Given I have an account with an authenticator app
    When I open the data page in the browser
    Then the browser is on the sign-in page
    When I enter my email and password on the sign-in page
    And I complete the second factor with my authenticator app
    Then the browser is on the data page
    And the browser shows my first name and email

  @CL-502
  Scenario: Completing the second factor with an SMS code
    Given I have an account with a phone number for SMS codes
    When I open the sign-in page in the browser
    And I enter my email and password on the sign-in page
    And I complete the second factor with an SMS code
    Then the browser shows my first name and email

  @CL-503
  Scenario: Completing the second factor with a backup code
    Given I have an account with backup codes
    When I open the sign-in page in the browser
    And I enter my email and password on the sign-in page
    And I complete the second factor with a backup code
    Then the browser shows my first name and email

  @CL-504
  Scenario: A wrong authenticator code is refused with Clerk's error and no session
    Given I have an account with an authenticator app
    When I open the sign-in page in the browser
    And I enter my email and password on the sign-in page
    And I complete the second factor with a wrong authenticator code
    Then the sign-in page shows an error mentioning "incorrect"
    And the browser is on the sign-in page
    And the browser is not signed in

  @CL-505 @reverification
  Scenario: A sensitive route lets a fresh second factor through and refuses one older than 10 minutes
    Given I have an account with an authenticator app
    When I open the sign-in page in the browser
    And I enter my email and password on the sign-in page
    And I complete the second factor with my authenticator app
    Then the app's reverification route lets me through from the page
    When mock-clerk's clock moves 11 minutes ahead and the browser gets a fresh session token
    Then the app's reverification route refuses me from the page with Clerk's reverification error
